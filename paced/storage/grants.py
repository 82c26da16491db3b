"""ConsentStore, AuthorizedAppStore and GrantRevocation over SQLAlchemy Core.

Revocation is set-based: one UPDATE per table over every row of the family, never a loop,
so that a grant with a thousand rotated refresh tokens ends in three statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update

from paced.core.records import App, Grant
from paced.storage.apps import APP_COLUMNS, app_from
from paced.storage.connection import StorageConnection
from paced.storage.models import access_tokens, apps, authorization_codes, grants, refresh_tokens

GRANT_COLUMNS = (
    grants.c.id.label("grant_id"),
    grants.c.app_id.label("grant_app_id"),
    grants.c.user_id.label("grant_user_id"),
    grants.c.scopes.label("grant_scopes"),
    grants.c.created_at.label("grant_created_at"),
    grants.c.last_used_at.label("grant_last_used_at"),
    grants.c.revoked_at.label("grant_revoked_at"),
    grants.c.resource.label("grant_resource"),
)


def grant_from(row: Any) -> Grant:
    """A Grant from a row selected with GRANT_COLUMNS."""
    return Grant(
        id=row.grant_id,
        app_id=row.grant_app_id,
        user_id=row.grant_user_id,
        scopes=tuple(row.grant_scopes.split()),
        created_at=row.grant_created_at,
        last_used_at=row.grant_last_used_at,
        revoked_at=row.grant_revoked_at,
        resource=row.grant_resource,
    )


class GrantRows:
    connection: StorageConnection

    # --- ConsentStore ---------------------------------------------------------------

    async def add_grant(self, grant: Grant, *, redirect_uri: str | None) -> None:
        await self.connection.execute(
            insert(grants).values(
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
        )

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
        await self.connection.execute(
            insert(authorization_codes).values(
                digest=digest,
                grant_id=grant_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                created_at=created_at,
                expires_at=expires_at,
                used_at=None,
            )
        )

    async def granted_scopes(self, user_id: str, app_id: str, redirect_uri: str) -> frozenset[str]:
        # Every approval is a grant of its own, so an app that sends its users through
        # authorization often has many: the few distinct scope lists come back, not them.
        # A grant from before redirect URIs were recorded (NULL) matches none.
        rows = await self.connection.execute(
            select(grants.c.scopes)
            .distinct()
            .where(
                grants.c.user_id == user_id,
                grants.c.app_id == app_id,
                grants.c.redirect_uri == redirect_uri,
                grants.c.revoked_at.is_(None),
            )
        )
        return frozenset(scope for (scopes,) in rows for scope in scopes.split())

    # --- AuthorizedAppStore ---------------------------------------------------------

    async def live_grants_with_apps(
        self, user_id: str, app_id: str | None = None
    ) -> list[tuple[App, Grant]]:
        statement = (
            select(*APP_COLUMNS, *GRANT_COLUMNS)
            .join(apps, apps.c.id == grants.c.app_id)
            .where(grants.c.user_id == user_id, grants.c.revoked_at.is_(None))
            .order_by(grants.c.created_at, grants.c.id)
        )
        if app_id is not None:
            statement = statement.where(grants.c.app_id == app_id)
        rows = await self.connection.execute(statement)
        return [(app_from(row), grant_from(row)) for row in rows]

    # --- GrantRevocation ------------------------------------------------------------

    async def revoke_grant(self, grant_id: str, now: datetime) -> None:
        await self._revoke_family(now, grants.c.id == grant_id)

    async def revoke_user_app_grants(self, user_id: str, app_id: str, now: datetime) -> int:
        return await self._revoke_family(
            now, grants.c.user_id == user_id, grants.c.app_id == app_id
        )

    async def _revoke_family(self, now: datetime, *which: ColumnElement[bool]) -> int:
        """Revoke the grants `which` selects and every access and refresh token of them,
        in one statement per table; returns how many grants were live until now."""
        # The grant rows first: every writer of a family (a rotation, an exchange, a
        # revocation) locks its grant row before its tokens, so that on PostgreSQL
        # concurrent writers queue on that row instead of deadlocking over the tokens.
        result = await self.connection.execute(
            update(grants).where(*which, grants.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        family = select(grants.c.id).where(*which)
        for table in (access_tokens, refresh_tokens):
            await self.connection.execute(
                update(table)
                .where(table.c.grant_id.in_(family), table.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return int(result.rowcount)
