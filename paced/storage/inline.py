"""SQLite on the event loop's own thread.

aiosqlite runs every call on a thread of its own and hands the answer back to the loop:
on this project's machine about 115 µs a hop, and one statement through SQLAlchemy takes
several hops. A refresh grant (ten statements) spent 4 ms waiting for threads, inside the
one write lock SQLite has, which held the token endpoint near 250 requests a second
whatever the CPU. The same statements on the loop's thread take microseconds each: in
WAL mode with `synchronous=NORMAL` a commit does not wait for the disk. So the units of
work on a SQLite file run here, through SQLAlchemy's synchronous pysqlite dialect with
the same tables and types (docs/benchmarks.md).

Nothing here may make the loop wait for another process. The connections' busy timeout
is zero; a transaction that finds the database locked (another worker or a CLI command
in the middle of a write) gets its lock by retrying with `asyncio.sleep`, until the
configured database timeout, then fails as a locked database does (503).

The statements of the token endpoint, marked with `direct`, go further: they run on the
sqlite3 connection itself (paced/storage/direct.py), and a refresh grant runs six of
them inside the one write lock.

Writers of this process take turns on one connection, and those that end together share
one COMMIT: see `InlineDatabase.transaction`.

Nor may a commit wait for the disk. SQLite's automatic checkpoint runs inside the commit
that crosses its threshold, copying the WAL into the database and syncing both: on this
project's machine a stall of up to a second under the refresh benchmark, for every
request the loop was serving. Here the twin's connections do not checkpoint; every
hundred commits, a checkpoint runs on a connection of its own in a worker thread, beside
the loop: readers go on meanwhile, and this process's writers wait for it on their
lock, as they would for SQLite's own. That wait matters: a WAL is only restarted from
its beginning once a checkpoint has copied all of it, which never happens while commits
keep arriving during the checkpoint. Without it, a WAL grew to 800 MB in a minute of
the benchmark and every read slowed down searching it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Result, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from paced.storage.direct import plan
from paced.storage.postgres import PostgresConnection

# The statement that starts a reader's snapshot, so that a busy database is met, and
# waited for, where it can be retried rather than in the middle of a use case.
_SNAPSHOT = "SELECT 1 FROM sqlite_schema LIMIT 1"
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.02
# A refresh grant writes about ten pages: a hundred commits are about a thousand, SQLite's
# own threshold (the WAL stays near 6 MB under the benchmark).
CHECKPOINT_EVERY = 100
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# Page cache per connection, in KiB. The readers serve pages and the authorization
# endpoint (the Bearer check has a connection of its own, paced/storage/bearer.py):
# SQLite's default (2,000) on each of them held 1-2 MiB more of the worker's memory
# under the benchmark (docs/benchmarks.md). The writer, which runs the token endpoint's
# lookups, keeps the default.
READER_CACHE_KIB = 500
WRITER_CACHE_KIB = 2000

log = logging.getLogger("paced.storage")


class InlineConnection:
    """The part of `AsyncConnection` that storage uses, over a synchronous connection."""

    __slots__ = ("_connection", "_raw")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._raw: sqlite3.Connection = connection.connection.dbapi_connection  # type: ignore[assignment]

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        planned = plan(statement, parameters, self._connection.dialect)
        if planned is not None:
            return planned.run_sqlite(self._raw, parameters)
        return self._connection.execute(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._connection.begin_nested():
            yield

    async def stream(self, statement: Executable) -> AsyncIterator[Any]:
        result = self._connection.execute(statement, execution_options={"yield_per": 500})
        return _rows(result)


# What the rows of storage run their statements on.
StorageConnection = AsyncConnection | InlineConnection | PostgresConnection


async def _rows(result: Result[Any]) -> AsyncIterator[Any]:
    with result:
        for row in result:
            yield row


class InlineDatabase:
    """The synchronous twin of a SQLite file's engine."""

    def __init__(self, url: URL, timeout: float, hide_parameters: bool) -> None:
        self.timeout = timeout
        self.path = url.database or ""
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        # This process's writers take turns here (paced.storage.unit_of_work), and so
        # does the checkpoint.
        self.writers = asyncio.Lock()
        self._writer: Connection | None = None
        # The open write transaction's kept units of work, each waiting for its COMMIT;
        # None while no transaction is open.
        self._batch: list[asyncio.Future[None]] | None = None
        self._keep = False
        self._committer: asyncio.Task[None] | None = None
        # Connections are opened as needed and never waited for: a pool that blocked
        # would block the loop. Five stay open; any more are closed when returned.
        self.engine: Engine = create_sync_engine(
            url.set(drivername="sqlite+pysqlite"),
            connect_args={"timeout": 0, "check_same_thread": False},
            hide_parameters=hide_parameters,
            pool_size=5,
            max_overflow=-1,
        )
        event.listen(self.engine, "connect", _on_connect)

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Connection]:
        """A connection inside a read snapshot, or for a writer, a unit of work inside
        this process's write transaction (`BEGIN IMMEDIATE`), in the writers' turn.

        A writer calls `keep` to keep its changes; leaving without it undoes them. The
        units of work that end while others wait their turn share one COMMIT (group
        commit): each runs inside a SAVEPOINT of the open transaction, and a kept one
        joins the batch that a task commits once the writers ahead of it are through. A
        writer leaves only once its batch is committed, and if that COMMIT fails, every
        writer of the batch gets its error: what a client is told was done is on disk,
        and what it was not told was done is not. COMMIT and BEGIN were an eighth of a
        refresh grant, and a batch writes each page it touched once.
        """
        if not write:
            with self.engine.connect() as connection:
                await self._begin(connection.connection.dbapi_connection, write=False)
                connection.begin()  # SQLAlchemy's bookkeeping: the driver sends nothing
                yield connection
            return
        committed: asyncio.Future[None] | None = None
        raised: BaseException | None = None
        async with self.writers:
            connection = self._writer_connection()
            raw: Any = connection.connection.dbapi_connection
            # The first unit of a transaction needs no savepoint: undoing it is a
            # ROLLBACK, and a quiet server's batches of one cost what they did before.
            first = self._batch is None
            if first:
                await self._begin(raw, write=True)
                connection.begin()
                self._batch = []
            else:
                try:
                    raw.execute("SAVEPOINT paced_unit")
                except BaseException as error:
                    self._abandon(connection, error)
                    raise
            self._keep = False
            try:
                yield connection
            except BaseException as error:  # kept (or not) as `keep` said; raised below
                raised = error
            committed = self._end_unit(connection, raw, first=first)
        if committed is not None:
            await committed
        if raised is not None:
            raise raised

    def keep(self) -> None:
        """Keep the changes of the unit of work in progress: they are committed with its
        batch."""
        self._keep = True

    def _writer_connection(self) -> Connection:
        # One writer at a time, so one connection serves them all, kept out of the
        # pool: a checkout and its reset cost more than a statement.
        if self._writer is None:
            self._writer = self.engine.connect()
            raw: Any = self._writer.connection.dbapi_connection
            raw.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        return self._writer

    def _end_unit(
        self, connection: Connection, raw: Any, *, first: bool
    ) -> asyncio.Future[None] | None:
        """Release the unit's savepoint, or undo the unit; a kept unit gets the future of
        its batch's COMMIT."""
        keep, self._keep = self._keep, False
        if self._batch is None:  # abandoned meanwhile: the engine is being disposed of
            raise RuntimeError("the write transaction was abandoned")
        if first and not keep:  # alone in the transaction: end it
            self._abandon(connection, None)
            return None
        if not first:
            try:
                if not keep:
                    raw.execute("ROLLBACK TO paced_unit")
                raw.execute("RELEASE paced_unit")
            except BaseException as error:
                self._abandon(connection, error)
                raise
        if not keep:
            return None
        loop = asyncio.get_running_loop()
        committed = loop.create_future()
        self._batch.append(committed)
        if self._committer is None:
            self._committer = loop.create_task(self._commit_batch())
        return committed

    async def _commit_batch(self) -> None:
        """COMMIT the open transaction once the writers queued ahead are through."""
        try:
            async with self.writers:
                self._committer = None
                batch, self._batch = self._batch, None
                if not batch or self._writer is None:
                    return
                try:
                    self._writer.commit()
                except BaseException as error:
                    self._batch = batch
                    self._abandon(self._writer, error)
                    return
                for committed in batch:
                    if not committed.done():
                        committed.set_result(None)
                self._commits += 1
                if self._commits >= CHECKPOINT_EVERY and self._checkpoint is None:
                    self._commits = 0
                    self._checkpoint = asyncio.get_running_loop().create_task(
                        self._checkpoint_turn()
                    )
        except asyncio.CancelledError:
            # Only when the engine is disposed of (which rolls back): the writers
            # waiting on this batch learn that it will not be committed.
            for committed in self._batch or []:
                committed.cancel()
            raise

    def _abandon(self, connection: Connection | None, error: BaseException | None) -> None:
        """Roll the open transaction back and fail every writer waiting on it."""
        batch, self._batch = self._batch or [], None
        for committed in batch:
            if committed.done():
                continue
            if error is None:
                committed.cancel()
            else:
                committed.set_exception(error)
        if connection is None:
            return
        try:
            connection.rollback()  # also ends a transaction whose COMMIT failed
            raw = connection.connection.dbapi_connection
            if raw is not None and raw.in_transaction:
                raw.rollback()
        except Exception as failure:  # the connection is beyond use: a new one next time
            log.warning("rolling back the write transaction failed: %s", failure)
            self._close_writer()
            return
        if connection.invalidated:
            self._close_writer()

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _checkpoint_turn(self) -> None:
        try:
            async with self.writers:
                await asyncio.get_running_loop().run_in_executor(None, checkpoint, self.path)
        except Exception as error:  # a task of its own: nobody else would hear of it
            # The next one, a hundred commits on, tries again.
            log.warning("WAL checkpoint failed: %s", error)
        finally:
            self._checkpoint = None

    async def _begin(self, raw: Any, *, write: bool) -> None:
        deadline = time.monotonic() + self.timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                if write:
                    raw.execute("BEGIN IMMEDIATE")
                else:
                    raw.execute("BEGIN")
                    raw.execute(_SNAPSHOT).fetchall()
                return
            except sqlite3.OperationalError as error:
                if raw.in_transaction:
                    raw.rollback()
                if not is_busy(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    def dispose(self) -> None:
        for task in (self._checkpoint, self._committer):
            if task is not None:
                task.cancel()
        self._abandon(self._writer, None)
        self._close_writer()
        self.engine.dispose()


def checkpoint(path: str) -> None:
    """Copy what the WAL holds into the database, as far as readers allow (PASSIVE)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        connection.close()


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused for a lock another connection holds (try again later)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun here by hand (InlineDatabase._begin), never by the driver.
    dbapi_connection.isolation_level = None
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=0",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA wal_autocheckpoint=0",
        f"PRAGMA cache_size=-{READER_CACHE_KIB}",
        # A WAL that grew (a long write by another process) shrinks when it restarts.
        f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
    ):
        dbapi_connection.execute(pragma)
