"""BearerStore, as paced/storage/bearer.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import BearerToken, User
from tests.fakes.rows import UserRow
from tests.fakes.tables import Rows, stale


def _bearer_user(row: UserRow) -> User:
    # The Bearer lookup reads no email_verified_at (paced/storage/bearer.py).
    return User(row.id, row.email, row.name, row.time_zone, row.created_at, row.updated_at)


class BearerRows(Rows):
    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        row = self.db.personal_tokens.first(digest=digest)
        user = self.db.users.first(id=row.user_id) if row else None
        if row is None or user is None:
            return None
        return BearerToken(
            kind="personal",
            id=row.id,
            digest=row.digest,
            user=_bearer_user(user),
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None or user.disabled_at is not None,
            last_used_at=row.last_used_at,
        )

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        row = self.db.access_tokens.first(digest=digest)
        grant = self.db.grants.first(id=row.grant_id) if row else None
        app = self.db.apps.first(id=grant.app_id) if grant else None
        user = self.db.users.first(id=grant.user_id) if grant else None
        if row is None or grant is None or app is None or user is None:
            return None
        return BearerToken(
            kind="oauth",
            id=row.id,
            digest=row.digest,
            user=_bearer_user(user),
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
            revoked=any(
                t is not None for t in (row.revoked_at, grant.revoked_at, user.disabled_at)
            ),
            last_used_at=grant.last_used_at,
            client_id=app.client_id,
            grant_id=grant.id,
        )

    async def record_personal_token_use(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        for row in self.db.personal_tokens.where(id=token_id):
            if stale(row.last_used_at, unused_since):
                row.last_used_at = now

    async def record_grant_use(
        self, grant_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        for row in self.db.grants.where(id=grant_id):
            if stale(row.last_used_at, unused_since):
                row.last_used_at = now
