"""BearerStore: the hot path of every API request, on the database drivers themselves.

One indexed SELECT by digest, joined to everything the answer needs. It skips the ORM
layers that the rest of storage uses, because on this path they cost several times the
query itself (profiled with py-spy under wrk; docs/benchmarks.md):

- SQLite: a read-only `sqlite3` connection of the process, used from the event loop's
  own thread. An indexed point read on a local file takes tens of microseconds, less
  than one hop to aiosqlite's worker thread; in WAL mode a reader never waits for a
  writer. Each statement runs in autocommit, so it sees every committed revocation.
- PostgreSQL: an asyncpg pool of its own; the statement is prepared once per
  connection and runs outside any transaction (one round trip). A connection goes back
  to the pool as it is: asyncpg's reset on release is a second round trip (and a task)
  per request, for session state these statements never change.

The rare last-used write runs in a short transaction of its own through SQLAlchemy, as a
conditional UPDATE, so that concurrent requests on any node write it once.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.bearer import BearerToken
from paced.core.records import User
from paced.storage.models import grants, personal_tokens
from paced.storage.unit_of_work import unit_of_work

if TYPE_CHECKING:
    import asyncpg

_USER = "u.id, u.email, u.name, u.time_zone, u.created_at, u.updated_at"
# Constant SQL, put together at import: nothing of a request goes into the text.
# ruff: noqa: S608

PERSONAL = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at, t.revoked_at IS NOT NULL,
       t.last_used_at
FROM personal_tokens t JOIN users u ON u.id = t.user_id
WHERE t.digest = ?
"""

OAUTH = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at,
       t.revoked_at IS NOT NULL OR g.revoked_at IS NOT NULL, g.last_used_at,
       a.client_id, g.id
FROM access_tokens t
JOIN grants g ON g.id = t.grant_id
JOIN apps a ON a.id = g.app_id
JOIN users u ON u.id = g.user_id
WHERE t.digest = ?
"""


def _numbered(sql: str) -> str:
    """asyncpg's placeholder for the statements' single parameter."""
    return sql.replace("?", "$1")


# The statements as asyncpg takes them.
_POSTGRESQL = {sql: _numbered(sql) for sql in (PERSONAL, OAUTH)}


async def _as_it_is(_connection: object) -> None:
    """asyncpg's reset on release, for connections that keep no session state."""


def _token(row: Any, kind: str, when: Any) -> BearerToken:
    user = User(
        id=row[0],
        email=row[1],
        name=row[2],
        time_zone=row[3],
        created_at=when(row[4]),
        updated_at=when(row[5]),
    )
    return BearerToken(
        kind="personal" if kind == "personal" else "oauth",
        id=row[6],
        digest=row[7],
        user=user,
        scopes=tuple(row[8].split()),
        expires_at=when(row[9]),
        revoked=bool(row[10]),
        last_used_at=when(row[11]),
        client_id=row[12] if kind == "oauth" else None,
        grant_id=row[13] if kind == "oauth" else None,
    )


def _sqlite_time(value: str | None) -> datetime | None:
    # models.UTCDateTime keeps naive UTC text on SQLite.
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _touch(table: Table, row_id: str, now: datetime, unused_since: datetime) -> Any:
    stale: ColumnElement[bool] = or_(
        table.c.last_used_at.is_(None), table.c.last_used_at <= unused_since
    )
    return update(table).where(table.c.id == row_id, stale).values(last_used_at=now)


class BearerTokens:
    """`paced.core.store.BearerStore` for one engine's database; one per process."""

    def __init__(self, engine: AsyncEngine, *, timeout: float = 30.0) -> None:
        if (
            engine.url.database in (None, "", ":memory:")
            and engine.url.get_backend_name() == "sqlite"
        ):
            raise ValueError("the Bearer check needs a database file, not :memory:")
        self._engine = engine
        self._backend = engine.url.get_backend_name()
        self._timeout = timeout
        self._sqlite: sqlite3.Connection | None = None
        self._pool: asyncpg.Pool | None = None

    async def _row(self, sql: str, digest: str) -> Any:
        if self._backend == "sqlite":
            if self._sqlite is None:
                self._sqlite = _open_sqlite(self._engine.url.database or "")
            return self._sqlite.execute(sql, (digest,)).fetchone()
        if self._pool is None:
            import asyncpg  # here: a server on SQLite never loads it

            self._pool = await asyncpg.create_pool(
                self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                min_size=0,  # connect on use: no reconnect loop logging through an outage
                max_size=self._engine.pool.size(),  # type: ignore[attr-defined]
                timeout=self._timeout,
                command_timeout=self._timeout,
                reset=_as_it_is,
            )
        return await self._pool.fetchrow(_POSTGRESQL[sql], digest)

    def _when(self) -> Any:
        return _sqlite_time if self._backend == "sqlite" else _pg_time

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._row(PERSONAL, digest)
        return None if row is None else _token(row, "personal", self._when())

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._row(OAUTH, digest)
        return None if row is None else _token(row, "oauth", self._when())

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

    async def aclose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _open_sqlite(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
    # A reader in WAL mode waits only while the database is recovered or its WAL reset:
    # briefly, and never for a writer's transaction.
    connection.execute("PRAGMA busy_timeout=2000")
    connection.execute("PRAGMA query_only=ON")
    return connection
