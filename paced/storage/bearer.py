"""BearerStore: the hot path of every API request, on the database drivers themselves.

One indexed SELECT by digest, joined to everything the answer needs. It skips the ORM
layers that the rest of storage uses, because on this path they cost several times the
query itself (profiled with py-spy under wrk; docs/benchmarks.md):

- SQLite: a read-only `sqlite3` connection of the process, used from the event loop's
  own thread. An indexed point read on a local file takes tens of microseconds, less
  than one hop to aiosqlite's worker thread; in WAL mode a reader never waits for a
  writer. Each statement runs in autocommit, so it sees every committed revocation.
- PostgreSQL: asyncpg connections of its own (`Readers`); the statement is prepared
  once per connection and runs outside any transaction. asyncpg's own pool cost a fifth
  of the server's time on this path (a reset query on every release, a task to shield
  it, a queue and a timeout around every acquire); these statements change no session
  state and need none of it. The requests that look a token up in the same turn of the
  event loop share one statement and its round trip (`Lookups`).

The rare last-used write runs in a short transaction of its own through SQLAlchemy, as a
conditional UPDATE, so that concurrent requests on any node write it once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.records import BearerToken, User
from paced.storage.models import grants, personal_tokens
from paced.storage.unit_of_work import unit_of_work

_USER = "u.id, u.email, u.name, u.time_zone, u.created_at, u.updated_at"
# Constant SQL, put together at import: nothing of a request goes into the text.
# ruff: noqa: S608

PERSONAL = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at,
       t.revoked_at IS NOT NULL OR u.disabled_at IS NOT NULL,
       t.last_used_at
FROM personal_tokens t JOIN users u ON u.id = t.user_id
WHERE t.digest = ?
"""

OAUTH = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at,
       t.revoked_at IS NOT NULL OR g.revoked_at IS NOT NULL OR u.disabled_at IS NOT NULL,
       g.last_used_at,
       a.client_id, g.id
FROM access_tokens t
JOIN grants g ON g.id = t.grant_id
JOIN apps a ON a.id = g.app_id
JOIN users u ON u.id = g.user_id
WHERE t.digest = ?
"""


def _any_of(sql: str) -> str:
    """The statement for a list of digests at once, as asyncpg takes it."""
    return sql.replace("t.digest = ?", "t.digest = ANY($1)")


# The statements as asyncpg takes them, for every digest of a batch.
_POSTGRESQL = {sql: _any_of(sql) for sql in (PERSONAL, OAUTH)}
# Where each row carries the token's digest.
_DIGEST = 7


class Lookups:
    """Bearer lookups by digest on PostgreSQL, batched: the requests that ask in the same
    turn of the event loop share one statement (`digest = ANY($1)`) and its round trip,
    whose handling on the loop was a third of an API request's time there (py-spy). Each
    asks after it arrived, so it sees every revocation committed before."""

    def __init__(self, readers: Readers, sql: str) -> None:
        self._readers = readers
        self._sql = sql
        self._waiting: dict[str, list[asyncio.Future[Any]]] = {}

    async def row(self, digest: str) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._send)
        self._waiting.setdefault(digest, []).append(answer)
        return await answer

    def _send(self) -> None:
        batch, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._fetch(batch))
        _IN_FLIGHT.add(task)
        task.add_done_callback(_IN_FLIGHT.discard)

    async def _fetch(self, batch: dict[str, list[asyncio.Future[Any]]]) -> None:
        try:
            rows = await self._readers.fetch(self._sql, list(batch))
        except asyncio.CancelledError:
            for answers in batch.values():
                for answer in answers:
                    answer.cancel()
            raise
        except Exception as error:  # each request answers it (a 503, errors.py)
            for answers in batch.values():
                for answer in answers:
                    if not answer.done():
                        answer.set_exception(error)
            return
        found = {row[_DIGEST]: row for row in rows}
        for digest, answers in batch.items():
            for answer in answers:
                if not answer.done():
                    answer.set_result(found.get(digest))


# Batches being fetched, kept from the garbage collector until they are done.
_IN_FLIGHT: set[asyncio.Task[None]] = set()


class Readers:
    """At most `size` asyncpg connections for statements that run alone, outside any
    transaction. A connection is taken, used for one statement and given back as it
    is; one that failed in any way (an error, a timeout, a cancelled request) is closed
    and its place given to the next reader. A reader that waits longer than `timeout`
    for a connection gets TimeoutError (an unavailable database: 503)."""

    def __init__(self, dsn: str, *, size: int, timeout: float) -> None:
        self._dsn, self._size, self._timeout = dsn, size, timeout
        self._idle: list[Any] = []
        self._open = 0  # idle, in use, or being made (a place taken)
        # Each waiter gets a connection, or None: a place of its own to open one in.
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._closed = False

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        connection = await self._take()
        try:
            rows: list[Any] = await connection.fetch(sql, *args, timeout=self._timeout)
        except BaseException:
            self._discard(connection)
            raise
        self._give_back(connection)
        return rows

    async def _take(self) -> Any:
        while True:
            if self._closed:
                raise RuntimeError("the Bearer store is closed")
            if self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                # The server or the network closed it while it was idle: make another.
                self._discard(connection)
                continue
            if self._open < self._size:
                self._open += 1
                return await self._connect()
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                async with asyncio.timeout(self._timeout):
                    connection = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    # Handed over just as this reader gave up: pass it on.
                    handed = waiter.result()
                    if handed is None:
                        self._leave()
                    else:
                        self._give_back(handed)
                else:
                    waiter.cancel()
                    if waiter in self._waiting:
                        self._waiting.remove(waiter)
                raise
            if connection is not None:
                return connection
            # A connection was closed: its place is this reader's to fill.
            return await self._connect()

    async def _connect(self) -> Any:
        """A new connection, in a place already taken."""
        # here: a server on SQLite never loads it. asyncpg ships no type hints.
        import asyncpg  # type: ignore[import-untyped]

        try:
            return await asyncpg.connect(
                self._dsn, timeout=self._timeout, command_timeout=self._timeout
            )
        except BaseException:
            self._leave()
            raise

    def _give_back(self, connection: Any) -> None:
        if self._closed or connection.is_closed():
            self._discard(connection)
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _discard(self, connection: Any) -> None:
        connection.terminate()
        self._leave()

    def _leave(self) -> None:
        """A place comes free: the first waiter takes it, else it stays free."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            await connection.close(timeout=self._timeout)
        for waiter in self._waiting:
            waiter.cancel()
        self._waiting.clear()


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


@lru_cache(maxsize=4096)
def _sqlite_time(value: str | None) -> datetime | None:
    # models.UTCDateTime keeps naive UTC text on SQLite. A user's times come back on every
    # request of theirs: parsed once, they are a dict lookup (no secret is kept here).
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
        self._readers: Readers | None = None
        self._lookups: dict[str, Lookups] = {}

    async def _row(self, sql: str, digest: str) -> Any:
        if self._backend == "sqlite":
            if self._sqlite is None:
                self._sqlite = _open_sqlite(self._engine.url.database or "")
            return self._sqlite.execute(sql, (digest,)).fetchone()
        if self._readers is None:
            # Connected on use: no reconnect loop logging through an outage.
            self._readers = Readers(
                self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                size=self._engine.pool.size(),  # type: ignore[attr-defined]
                timeout=self._timeout,
            )
            self._lookups = {
                kind: Lookups(self._readers, _POSTGRESQL[kind]) for kind in _POSTGRESQL
            }
        return await self._lookups[sql].row(digest)

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
        if self._readers is not None:
            await self._readers.aclose()
            self._readers = None


def _open_sqlite(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
    # A reader in WAL mode waits only while the database is recovered or its WAL reset:
    # briefly, and never for a writer's transaction.
    connection.execute("PRAGMA busy_timeout=2000")
    connection.execute("PRAGMA query_only=ON")
    return connection
