"""PostgreSQL: `PostgresDatabase`, over one pool of asyncpg connections served first
come, first served.

A unit of work sends BEGIN and COMMIT itself on an asyncpg connection, and every
statement runs on that connection, compiled once (paced/storage/compiled.py), inside the
one transaction. The Bearer check's lookups run on the same connections between
transactions.

The pool (`Pool`) opens up to twice `pool_size` connections, as they are needed, and
keeps them open between uses: opening a connection costs far more than a statement
(docs/benchmarks.md). A connection given back goes to the unit of work that has waited
longest, and one that arrives while others wait queues behind them: a pool that let
newcomers take a connection first kept some units of work waiting for seconds under
load. A connection never goes back inside a transaction. When ending a transaction fails
or is interrupted, the connection is closed instead, and so are the idle ones, which
most likely share its fate (a restarted server): the next units of work open new ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import Dialect, Executable
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

from paced.core.errors import PacedError
from paced.core.records import BearerToken
from paced.storage import bearer
from paced.storage.compiled import Plans, Rows
from paced.storage.errors import Conflict, StorageError, Unavailable, Unstorable, message_of
from paced.storage.store import Store

log = logging.getLogger("paced.storage")


class PostgresConnection:
    """A unit of work's or a read's connection (`StorageConnection`), every statement on
    asyncpg through its plan, and the end of the transaction."""

    __slots__ = ("_savepoints", "ended", "plans", "raw")

    def __init__(self, raw: Any, plans: Plans) -> None:
        self.plans = plans
        self.raw = raw
        self.ended = False
        self._savepoints = 0

    @property
    def dialect(self) -> Dialect:
        return self.plans.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows:
        with storage_errors():
            planned, key = self.plans.plan(statement, parameters)
            return await planned.run_asyncpg(self.raw, parameters, key, self.plans)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"paced_nested_{self._savepoints}"
        with storage_errors():
            await self.raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with storage_errors():
                await self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
                await self.raw.execute(f"RELEASE SAVEPOINT {name}")
            raise
        with storage_errors():
            await self.raw.execute(f"RELEASE SAVEPOINT {name}")

    async def stream(self, statement: Executable, parameters: Any = None) -> AsyncIterator[Any]:
        with storage_errors():
            planned, key = self.plans.plan(statement, parameters)
            batches = planned.stream_asyncpg(self.raw, parameters, key, self.plans)
        try:
            while True:
                with storage_errors():
                    batch = await anext(batches, None)
                if batch is None:
                    return
                for row in batch:
                    yield row
        finally:
            await batches.aclose()

    async def commit(self) -> None:
        with storage_errors():
            await self.raw.execute("COMMIT")
        self.ended = True

    async def roll_back(self) -> None:
        """Undo the transaction, on the way out of a unit of work that failed: if the
        connection is beyond that (closed, interrupted), the unit's own error is the one
        to raise, and the connection is closed (`PostgresDatabase._transaction`)."""
        try:
            await self.raw.execute("ROLLBACK")
        except Exception as error:
            log.warning("rolling back a unit of work failed: %s", error)
            return
        self.ended = True


class Pool:
    """At most `size` connections, opened as they are needed and kept open. A connection
    given back goes to the oldest waiter; one waited for longer than `timeout` is
    `Unavailable`."""

    def __init__(
        self,
        open_: Callable[[], Awaitable[PostgresConnection]],
        *,
        size: int,
        timeout: float,
    ) -> None:
        self._open_one, self._size, self._timeout = open_, size, timeout
        self._idle: list[PostgresConnection] = []
        self._open = 0  # idle, in use, or being made (a place taken)
        # Each waiter gets a connection, or None: a place of its own to open one in.
        self._waiting: deque[asyncio.Future[PostgresConnection | None]] = deque()
        self._closed = False

    async def take(self) -> PostgresConnection:
        while True:
            if self._closed:
                raise Unavailable("the database is closed")
            if self._idle:  # nobody waits while a connection is idle
                connection = self._idle.pop()
                if not connection.raw.is_closed():
                    return connection
                # The server or the network closed it while it was idle: make another.
                await self.discard(connection)
                continue
            if self._open < self._size:
                self._open += 1
                return await self._connect()
            return await self._wait()

    async def _wait(self) -> PostgresConnection:
        waiter: asyncio.Future[PostgresConnection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(self._timeout):
                connection = await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                # Handed over just as this waiter gave up: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._leave()
                else:
                    await self.give_back(handed)
            else:
                waiter.cancel()
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
            if isinstance(error, TimeoutError):
                raise Unavailable("no database connection came free in time") from error
            raise
        if connection is not None:
            return connection
        # A connection was closed: its place is this waiter's to fill.
        return await self._connect()

    async def _connect(self) -> PostgresConnection:
        """A new connection, in a place already taken."""
        try:
            with storage_errors():
                return await self._open_one()
        except BaseException:
            self._leave()
            raise

    async def give_back(self, connection: PostgresConnection) -> None:
        if self._closed or connection.raw.is_closed():
            await self.discard(connection)
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    async def discard(self, connection: PostgresConnection) -> None:
        """Close a connection and give its place to the first waiter. On the way out of a
        failure: its own failure is only logged, so that the first one is what is
        raised."""
        self._leave()
        connection.raw.terminate()

    def _leave(self) -> None:
        """A place comes free: the first waiter takes it, else it stays free."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1

    async def drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await self.discard(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            try:
                await connection.raw.close(timeout=self._timeout)
            except Exception as error:
                log.warning("closing a connection failed: %s", error)
                connection.raw.terminate()
        for waiter in self._waiting:
            waiter.cancel()
        self._waiting.clear()


class PostgresDatabase(bearer.LastUse):
    """The `Database` of a PostgreSQL server (`paced.storage.database`)."""

    backend: Literal["postgresql"] = "postgresql"

    def __init__(self, url: str, *, pool_size: int, timeout: float) -> None:
        self.url = make_url(url).set(drivername="postgresql")
        self.timeout = timeout
        # asyncpg through SQLAlchemy's dialect: its SQL, with a cast on each parameter.
        dialect = PGDialect_asyncpg(dbapi=PGDialect_asyncpg.import_dbapi())  # type: ignore[no-untyped-call]
        self.plans = Plans(dialect)
        self.pool = Pool(self._open, size=2 * pool_size, timeout=timeout)
        self._personal = Lookups(self, bearer.PERSONAL_ANY)
        self._oauth = Lookups(self, bearer.OAUTH_ANY)

    async def _open(self) -> PostgresConnection:
        raw = await asyncpg.connect(
            self.url.render_as_string(hide_password=False),
            timeout=self.timeout,
            command_timeout=self.timeout,
        )
        return PostgresConnection(raw, self.plans)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[PostgresConnection]:
        """A connection inside a transaction, which the caller ends (`commit` or
        `roll_back`)."""
        shared = await self.pool.take()
        shared.ended = False
        try:
            with storage_errors():
                await shared.raw.execute("BEGIN")
            yield shared
        finally:
            if shared.ended and not shared.raw.is_in_transaction():
                await self.pool.give_back(shared)
            else:
                await self.pool.discard(shared)  # closed at once, whatever interrupted it
                await self.pool.drop_idle()

    # The errors of the block itself are its own: its statements raise storage's already.
    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Store]:
        async with self._transaction() as shared:
            async with _ending(shared.commit, shared.roll_back):
                yield Store(shared)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Store]:
        async with self._transaction() as shared:
            try:
                yield Store(shared)
            finally:
                await shared.roll_back()

    # --- the Bearer check (paced.core.store.BearerStore) ---------------------------------

    async def fetch(self, statement: Executable, parameters: dict[str, Any]) -> list[Any]:
        """The rows of one statement run alone, outside any transaction."""
        with storage_errors():
            planned, key = self.plans.plan(statement, parameters)
            connection = await self.pool.take()
            try:  # within the connection's command timeout
                rows = await planned.run_asyncpg(connection.raw, parameters, key, self.plans)
            except BaseException:
                await self.pool.discard(connection)
                raise
            await self.pool.give_back(connection)
            return list(rows)

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._personal.row(digest)
        return None if row is None else bearer.token(row, "personal")

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        row = await self._oauth.row(digest)
        return None if row is None else bearer.token(row, "oauth")

    async def close(self) -> None:
        await self.pool.close()


class Lookups:
    """Bearer lookups by digest, batched: the requests that ask in the same turn of the
    event loop share one statement (`digest = ANY(:digests)`) and its round trip, whose
    handling on the loop was a third of an API request's time (py-spy). Each asks after
    it arrived, so it sees every revocation committed before."""

    def __init__(self, database: PostgresDatabase, statement: Executable) -> None:
        self._database = database
        self._statement = statement
        self._waiting: dict[str, list[asyncio.Future[Any]]] = {}
        # Batches being fetched, kept from the garbage collector until they are done.
        self._in_flight: set[asyncio.Task[None]] = set()

    async def row(self, digest: str) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._send)
        self._waiting.setdefault(digest, []).append(answer)
        return await answer

    def _send(self) -> None:
        batch, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._fetch(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _fetch(self, batch: dict[str, list[asyncio.Future[Any]]]) -> None:
        try:
            rows = await self._database.fetch(self._statement, {"digests": list(batch)})
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
        found = {row.digest: row for row in rows}
        for digest, answers in batch.items():
            for answer in answers:
                if not answer.done():
                    answer.set_result(found.get(digest))


@asynccontextmanager
async def _ending(
    commit: Callable[[], Awaitable[None]], roll_back: Callable[[], Awaitable[None]]
) -> AsyncIterator[None]:
    """Commit when the block ends normally or with a `PacedError`; else roll back."""
    try:
        yield
    except PacedError:
        await commit()
        raise
    except BaseException:
        await roll_back()
        raise
    await commit()


@contextmanager
def storage_errors() -> Iterator[None]:
    """Raise asyncpg's errors as storage's: the one place they are mapped. Their text
    holds no bound parameter (password hashes, emails and the like)."""
    try:
        yield
    except StorageError:
        raise
    except Exception as error:
        kind = _kind(error)
        if kind is None:
            raise
        raise kind(message_of(error)) from error


# SQLSTATE classes: integrity constraint violation, data exception, connection
# exception, insufficient resources, operator intervention (a server shutting down).
_BY_CLASS: dict[str, type[StorageError]] = {
    "23": Conflict,
    "22": Unstorable,
    "08": Unavailable,
    "53": Unavailable,
    "57": Unavailable,
}


def _kind(error: Exception) -> type[StorageError] | None:
    if isinstance(error, TimeoutError | OSError | asyncpg.InterfaceError):
        return Unavailable  # OSError: refused, unreachable, timed out
    code = getattr(error, "sqlstate", None)
    if isinstance(error, asyncpg.PostgresError) and isinstance(code, str):
        return _BY_CLASS.get(code[:2])
    return None
