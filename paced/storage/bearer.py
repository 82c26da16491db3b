"""BearerStore over an engine: the hot path of every API request.

Each lookup is one indexed SELECT by digest on a short read-only connection (on SQLite a
plain BEGIN, never the write lock; on PostgreSQL autocommit, so no BEGIN/ROLLBACK round
trips), released at once. The rare last-used write runs in a short transaction of its
own, as a conditional UPDATE, so that concurrent requests on any node write it once.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.bearer import BearerToken
from paced.storage.engine import READ
from paced.storage.models import access_tokens, apps, grants, personal_tokens, users
from paced.storage.unit_of_work import unit_of_work
from paced.storage.users import USER_COLUMNS, user_from

# Built once: the statement cache then serves every request without recompiling.
PERSONAL = (
    select(
        *USER_COLUMNS,
        personal_tokens.c.id.label("token_id"),
        personal_tokens.c.digest,
        personal_tokens.c.scopes,
        personal_tokens.c.expires_at,
        personal_tokens.c.revoked_at,
        personal_tokens.c.last_used_at,
    )
    .join(users, users.c.id == personal_tokens.c.user_id)
    .where(personal_tokens.c.digest == bindparam("digest"))
)

OAUTH = (
    select(
        *USER_COLUMNS,
        access_tokens.c.id.label("token_id"),
        access_tokens.c.digest,
        access_tokens.c.scopes,
        access_tokens.c.expires_at,
        access_tokens.c.revoked_at,
        grants.c.id.label("grant_id"),
        grants.c.revoked_at.label("grant_revoked_at"),
        grants.c.last_used_at,
        apps.c.client_id,
    )
    .select_from(access_tokens)
    .join(grants, grants.c.id == access_tokens.c.grant_id)
    .join(apps, apps.c.id == grants.c.app_id)
    .join(users, users.c.id == grants.c.user_id)
    .where(access_tokens.c.digest == bindparam("digest"))
)


def _touch(table: Table, row_id: str, now: datetime, unused_since: datetime) -> Any:
    stale: ColumnElement[bool] = or_(
        table.c.last_used_at.is_(None), table.c.last_used_at <= unused_since
    )
    return update(table).where(table.c.id == row_id, stale).values(last_used_at=now)


class BearerTokens:
    """`paced.core.store.BearerStore` for one engine; cheap to keep for the app's life."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        options: dict[str, Any] = {READ: True}
        if engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        self._reader = engine.execution_options(**options)

    async def _one(self, statement: Any, digest: str) -> Any:
        async with self._reader.connect() as connection:
            return (await connection.execute(statement, {"digest": digest})).first()

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._one(PERSONAL, digest)
        if row is None:
            return None
        return BearerToken(
            kind="personal",
            id=row.token_id,
            digest=row.digest,
            user=user_from(row),
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None,
            last_used_at=row.last_used_at,
        )

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._one(OAUTH, digest)
        if row is None:
            return None
        return BearerToken(
            kind="oauth",
            id=row.token_id,
            digest=row.digest,
            user=user_from(row),
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None or row.grant_revoked_at is not None,
            last_used_at=row.last_used_at,
            client_id=row.client_id,
            grant_id=row.grant_id,
        )

    async def record_personal_token_use(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        async with unit_of_work(self._engine) as store:
            await store.connection.execute(_touch(personal_tokens, token_id, now, unused_since))

    async def record_grant_use(
        self, grant_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        async with unit_of_work(self._engine) as store:
            await store.connection.execute(_touch(grants, grant_id, now, unused_since))


# A server has one engine; tests make one per app, so keep only the last few.
@lru_cache(maxsize=8)
def bearer_tokens(engine: AsyncEngine) -> BearerTokens:
    """The engine's BearerTokens, made once."""
    return BearerTokens(engine)
