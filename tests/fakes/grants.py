"""ConsentStore, AuthorizedAppStore and GrantRevocation, as paced/storage/grants.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import App, Grant
from tests.fakes.apps import app_from
from tests.fakes.rows import AccessTokenRow, AuthorizationCodeRow, GrantRow, RefreshTokenRow
from tests.fakes.tables import Rows, oldest_first


def grant_from(row: GrantRow) -> Grant:
    return Grant(
        id=row.id,
        app_id=row.app_id,
        user_id=row.user_id,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        resource=row.resource,
    )


class GrantRows(Rows):
    async def add_grant(self, grant: Grant, *, redirect_uri: str | None) -> None:
        row = GrantRow(
            id=grant.id,
            app_id=grant.app_id,
            user_id=grant.user_id,
            scopes=" ".join(grant.scopes),
            redirect_uri=redirect_uri,
            created_at=grant.created_at,
            last_used_at=grant.last_used_at,
            revoked_at=grant.revoked_at,
            resource=grant.resource,
        )
        self._insert(self.db.grants, row)

    async def add_authorization_code(
        self,
        *,
        digest: str,
        grant_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        row = AuthorizationCodeRow(
            digest, grant_id, redirect_uri, code_challenge, created_at, expires_at
        )
        self._insert(self.db.authorization_codes, row)

    async def granted_scopes(self, user_id: str, app_id: str, redirect_uri: str) -> frozenset[str]:
        # A grant from before redirect URIs were recorded (None) matches none.
        return frozenset(
            scope
            for row in self.db.grants.where(
                user_id=user_id, app_id=app_id, redirect_uri=redirect_uri, revoked_at=None
            )
            for scope in row.scopes.split()
        )

    async def live_grants_with_apps(
        self, user_id: str, app_id: str | None = None
    ) -> list[tuple[App, Grant]]:
        live = self.db.grants.where(user_id=user_id, revoked_at=None)
        found = []
        for row in sorted(live, key=oldest_first):
            app = self.db.apps.first(id=row.app_id)
            if app is not None and app_id in (None, row.app_id):
                found.append((app_from(app), grant_from(row)))
        return found

    async def revoke_grant(self, grant_id: str, now: datetime) -> None:
        self._revoke_family(now, self.db.grants.where(id=grant_id))

    async def revoke_user_app_grants(self, user_id: str, app_id: str, now: datetime) -> int:
        return self._revoke_family(now, self.db.grants.where(user_id=user_id, app_id=app_id))

    def _revoke_family(self, now: datetime, family: list[GrantRow]) -> int:
        """Revoke the grants and every token of them; how many grants were live."""
        live = [row for row in family if row.revoked_at is None]
        for grant in live:
            grant.revoked_at = now
        ids = {row.id for row in family}
        tokens: list[AccessTokenRow | RefreshTokenRow] = [
            *self.db.access_tokens.rows,
            *self.db.refresh_tokens.rows,
        ]
        for token in tokens:
            if token.grant_id in ids and token.revoked_at is None:
                token.revoked_at = now
        return len(live)
