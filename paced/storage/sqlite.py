"""SQLite: `SqliteDatabase`, the `Database` of a SQLite file, on the event loop's thread.

A hop to a worker thread costs more than an indexed statement on a local file, and a
refresh grant runs ten of them inside the one write lock SQLite has: so every unit of
work and every read runs on the loop's own thread, on sqlite3 connections this module
opens itself, and the Bearer check on one of its own. In WAL mode with
`synchronous=NORMAL` a commit does not wait for the disk (docs/benchmarks.md).

Nothing here may make the loop wait for another process. The connections' busy timeout
is zero; a transaction that finds the database locked (another worker or a CLI command
in the middle of a write) gets its lock by retrying with `asyncio.sleep`, until the
configured database timeout, then fails as `Unavailable` (503).

Statements run on the sqlite3 connection itself, compiled once
(paced/storage/compiled.py).

Writers of this process take turns on one asyncio lock and one connection, and those
that end together share one COMMIT: see `SqliteDatabase._transaction`. SQLite itself has
one writer at a time too, but makes the others poll with growing sleeps (its busy
handler), which leaves the lock idle while they sleep.

Nor may a commit wait for the disk. SQLite's automatic checkpoint runs inside the commit
that crosses its threshold, copying the WAL into the database and syncing both: a stall
of up to a second under the refresh benchmark, for every request the loop was serving.
Here the connections do not checkpoint; every hundred commits, a checkpoint runs on a
connection of its own in a worker thread, beside the loop: readers go on meanwhile, and
this process's writers wait for it on their lock, as they would for SQLite's own. That
wait matters: a WAL is only restarted from its beginning once a checkpoint has copied
all of it, which never happens while commits keep arriving during the checkpoint.
Without it, a WAL grew to 800 MB in a minute of the benchmark and every read slowed down
searching it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Dialect, Executable
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from paced.core.errors import PacedError
from paced.core.records import BearerToken
from paced.storage import bearer
from paced.storage.compiled import Plan, Plans, Rows
from paced.storage.errors import Conflict, StorageError, Unavailable, Unstorable, message_of
from paced.storage.store import Store

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
# endpoint (the Bearer check has a connection of its own):
# SQLite's default (2,000) on each of them held 1-2 MiB more of the worker's memory
# under the benchmark (docs/benchmarks.md). The writer, which runs the token endpoint's
# lookups, keeps the default.
READER_CACHE_KIB = 500
WRITER_CACHE_KIB = 2000

# Reader connections kept open between reads; any more are closed when given back.
READERS_KEPT = 5

log = logging.getLogger("paced.storage")


class SqliteConnection:
    """A unit of work's or a read's connection (`StorageConnection`): every statement
    runs on sqlite3 itself, through its plan."""

    __slots__ = ("_plans", "_raw", "_savepoints")

    def __init__(self, raw: sqlite3.Connection, plans: Plans) -> None:
        self._raw = raw
        self._plans = plans
        self._savepoints = 0

    @property
    def dialect(self) -> Dialect:
        return self._plans.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows:
        with storage_errors():
            planned, key = self._plans.plan(statement, parameters)
            return planned.run_sqlite(self._raw, parameters, key, self._plans)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"paced_nested_{self._savepoints}"
        with storage_errors():
            self._raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with storage_errors():
                self._raw.execute(f"ROLLBACK TO {name}")
                self._raw.execute(f"RELEASE {name}")
            raise
        with storage_errors():
            self._raw.execute(f"RELEASE {name}")

    async def stream(self, statement: Executable, parameters: Any = None) -> AsyncIterator[Any]:
        with storage_errors():
            planned, key = self._plans.plan(statement, parameters)
            batches = planned.stream_sqlite(self._raw, parameters, key, self._plans)
        try:
            while True:
                with storage_errors():
                    batch = next(batches, None)
                if batch is None:
                    return
                for row in batch:
                    yield row
        finally:
            batches.close()


class SqliteDatabase(bearer.LastUse):
    """The `Database` of a SQLite file (`paced.storage.database`)."""

    backend: Literal["sqlite"] = "sqlite"

    def __init__(self, path: str, *, timeout: float) -> None:
        if path in ("", ":memory:"):
            raise ValueError("paced needs a SQLite database file, not :memory:")
        create_private(Path(path))
        self.timeout = timeout
        self.path = path
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        # This process's writers take turns here, and so does the checkpoint.
        self.writers = asyncio.Lock()
        self._writer: sqlite3.Connection | None = None
        # The open write transaction's kept units of work, each waiting for its COMMIT;
        # None while no transaction is open.
        self._batch: list[asyncio.Future[None]] | None = None
        self._keep = False
        self._committer: asyncio.Task[None] | None = None
        # Reader connections are opened as needed and never waited for: a pool that
        # blocked would block the loop.
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        self.plans = Plans(SQLiteDialect_pysqlite(dbapi=sqlite3))
        # The Bearer check's read-only connection, opened on first use, and the plans of
        # its two statements.
        self._bearer: sqlite3.Connection | None = None
        self._bearer_plans: dict[Executable, Plan] = {}

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Store]:
        with storage_errors():
            async with self._transaction(write=True) as connection:
                try:
                    yield Store(SqliteConnection(connection, self.plans))
                except PacedError:
                    self._keep = True
                    raise
                self._keep = True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Store]:
        with storage_errors():
            async with self._transaction(write=False) as connection:
                yield Store(SqliteConnection(connection, self.plans))

    # --- the Bearer check (paced.core.store.BearerStore) ---------------------------------

    def _bearer_row(self, statement: Executable, digest: str) -> Any:
        # try, not `storage_errors()`: this runs on every API request.
        try:
            if self._bearer is None:
                self._bearer = _open_bearer(self.path)
            planned = self._bearer_plans.get(statement)
            if planned is None:
                planned = self.plans.plan(statement, {"digest": digest})[0]
                self._bearer_plans[statement] = planned
            if self.plans.listeners:
                self.plans.heard(planned.sql, (digest,))
            # A digest is text, which no conversion touches.
            return planned.first_sqlite(self._bearer, (digest,))
        except sqlite3.Error as error:
            kind = _kind(error)
            if kind is None:
                raise
            raise kind(message_of(error)) from error

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        row = self._bearer_row(bearer.PERSONAL, digest)
        return None if row is None else bearer.token(row, "personal")

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        row = self._bearer_row(bearer.OAUTH, digest)
        return None if row is None else bearer.token(row, "oauth")

    @asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[sqlite3.Connection]:
        """A connection inside a read snapshot, or for a writer, a unit of work inside
        this process's write transaction (`BEGIN IMMEDIATE`), in the writers' turn.

        A writer sets `_keep` to keep its changes; leaving without it undoes them. The
        units of work that end while others wait their turn share one COMMIT (group
        commit): each runs inside a SAVEPOINT of the open transaction, and a kept one
        joins the batch that a task commits once the writers ahead of it are through. A
        writer leaves only once its batch is committed, and if that COMMIT fails, every
        writer of the batch gets its error: what a client is told was done is on disk,
        and what it was not told was done is not. COMMIT and BEGIN were an eighth of a
        refresh grant, and a batch writes each page it touched once.
        """
        if not write:
            reader = self._readers.pop() if self._readers else self._connect()
            try:
                await self._begin(reader, write=False)
                yield reader
            finally:
                self._give_back(reader)
            return
        committed: asyncio.Future[None] | None = None
        raised: BaseException | None = None
        async with self.writers:
            connection = self._writer_connection()
            # The first unit of a transaction needs no savepoint: undoing it is a
            # ROLLBACK, and a quiet server's batches of one cost what they did before.
            first = self._batch is None
            if first:
                await self._begin(connection, write=True)
                self._batch = []
            else:
                try:
                    connection.execute("SAVEPOINT paced_unit")
                except BaseException as error:
                    self._abandon(connection, error)
                    raise
            self._keep = False
            try:
                yield connection
            except BaseException as error:  # kept (or not) as `keep` said; raised below
                raised = error
            committed = self._end_unit(connection, first=first)
        if committed is not None:
            await committed
        if raised is not None:
            raise raised

    def _writer_connection(self) -> sqlite3.Connection:
        # One writer at a time, so one connection serves them all.
        if self._writer is None:
            self._writer = self._connect()
            self._writer.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        return self._writer

    def _connect(self) -> sqlite3.Connection:
        # Transactions are begun here by hand (`_begin`), never by the driver.
        connection = sqlite3.connect(
            self.path, isolation_level=None, timeout=0, check_same_thread=False
        )
        try:
            enable_wal(connection, time.monotonic() + self.timeout)
            for pragma in (
                "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=0",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA wal_autocheckpoint=0",
                f"PRAGMA cache_size=-{READER_CACHE_KIB}",
                # A WAL that grew (a long write by another process) shrinks when it
                # restarts.
                f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
            ):
                connection.execute(pragma)
        except BaseException:
            connection.close()
            raise
        return connection

    def _give_back(self, reader: sqlite3.Connection) -> None:
        """End a read's transaction (what it changed is undone) and keep the connection
        for the next read, or close it."""
        try:
            if reader.in_transaction:
                reader.rollback()
        except sqlite3.Error as error:
            log.warning("ending a read failed: %s", error)
            reader.close()
            return
        if len(self._readers) < READERS_KEPT and not self._closed:
            self._readers.append(reader)
        else:
            reader.close()

    def _end_unit(
        self, connection: sqlite3.Connection, *, first: bool
    ) -> asyncio.Future[None] | None:
        """Release the unit's savepoint, or undo the unit; a kept unit gets the future of
        its batch's COMMIT."""
        keep, self._keep = self._keep, False
        if self._batch is None:  # abandoned meanwhile: the database is being closed
            raise RuntimeError("the write transaction was abandoned")
        if first and not keep:  # alone in the transaction: end it
            self._abandon(connection, None)
            return None
        if not first:
            try:
                if not keep:
                    connection.execute("ROLLBACK TO paced_unit")
                connection.execute("RELEASE paced_unit")
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
                    self._writer.execute("COMMIT")
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
            # Only when the database is closed (which rolls back): the writers
            # waiting on this batch learn that it will not be committed.
            for committed in self._batch or []:
                committed.cancel()
            raise

    def _abandon(self, connection: sqlite3.Connection | None, error: BaseException | None) -> None:
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
            if connection.in_transaction:  # also a transaction whose COMMIT failed
                connection.rollback()
        except Exception as failure:  # the connection is beyond use: a new one next time
            log.warning("rolling back the write transaction failed: %s", failure)
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

    async def _begin(self, raw: sqlite3.Connection, *, write: bool) -> None:
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

    async def close(self) -> None:
        for task in (self._checkpoint, self._committer):
            if task is not None:
                task.cancel()
        self._abandon(self._writer, None)
        self._close_writer()
        if self._bearer is not None:
            self._bearer.close()
            self._bearer = None
        self._closed = True
        readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()


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


def _open_bearer(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # A reader in WAL mode waits only while the database is recovered or its WAL reset:
    # briefly, and never for a writer's transaction. Each statement runs in autocommit,
    # so it sees every committed revocation.
    connection.execute("PRAGMA busy_timeout=2000")
    connection.execute("PRAGMA query_only=ON")
    return connection


def create_private(path: Path) -> None:
    """Create the database file, if new, readable by its owner only: it holds password
    hashes. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def enable_wal(dbapi_connection: Any, deadline: float) -> None:
    """Switch a new database to WAL (a no-op once it is). The switch needs the database
    to itself, and connections that open a new file together each hold a read lock while
    they wait for it: SQLite breaks that deadlock by refusing at once, so the switch is
    tried again, briefly, until the deadline. Only a new file is ever switched."""
    while True:
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Raise sqlite3's errors as storage's: the one place they are mapped. Their text
    holds no bound parameter (password hashes, emails and the like)."""
    try:
        yield
    except StorageError:
        raise
    except sqlite3.Error as error:
        kind = _kind(error)
        if kind is None:
            raise
        raise kind(message_of(error)) from error


def _kind(error: sqlite3.Error) -> type[StorageError] | None:
    if isinstance(error, sqlite3.IntegrityError):
        return Conflict
    if isinstance(error, sqlite3.DataError):
        return Unstorable
    if isinstance(error, sqlite3.OperationalError | sqlite3.InterfaceError):
        return Unavailable
    return None
