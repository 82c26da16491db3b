"""Engines for the URLs operators write: `sqlite:///PATH` and `postgresql://…`."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from paced.storage.inline import InlineDatabase, is_busy
from paced.storage.postgres import Connections

# Connections from `engine.execution_options(paced_read=True)` open SQLite transactions
# with a plain BEGIN; every other transaction takes the write lock up front with
# BEGIN IMMEDIATE, so that two writers never deadlock upgrading a read lock.
READ = "paced_read"
# Bound parameters stay out of log lines and error messages: they hold password hashes,
# emails and the like (docs/operations.md).
HIDE_PARAMETERS = True

# The units of work on a SQLite file run on its synchronous twin (paced/storage/inline.py),
# those on PostgreSQL on connections of their own (paced/storage/postgres.py).
_INLINE: WeakKeyDictionary[AsyncEngine, InlineDatabase] = WeakKeyDictionary()
_UNITS: WeakKeyDictionary[AsyncEngine, Connections] = WeakKeyDictionary()


def inline(engine: AsyncEngine) -> InlineDatabase | None:
    """The synchronous twin of a SQLite file's engine; None for PostgreSQL and memory."""
    return _INLINE.get(engine)


def units(engine: AsyncEngine) -> Connections | None:
    """The connections of a PostgreSQL engine's units of work; None for SQLite."""
    return _UNITS.get(engine)


async def dispose(engine: AsyncEngine) -> None:
    twin = _INLINE.pop(engine, None)
    if twin is not None:
        twin.dispose()
    connections = _UNITS.pop(engine, None)
    if connections is not None:
        await connections.close()
    await engine.dispose()


def async_url(url: str) -> URL:
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+asyncpg")
    if driver in ("sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme {driver!r}: use sqlite:/// or postgresql://")


def create_engine(url: str, *, pool_size: int = 10, timeout: float = 30.0) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        return _sqlite_engine(target, timeout)
    engine = create_async_engine(
        target,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        # No pre-ping: it costs every checkout a round trip. A connection found dead
        # fails its request (503) and SQLAlchemy then replaces the whole pool.
        connect_args={"timeout": timeout, "command_timeout": timeout},
        hide_parameters=HIDE_PARAMETERS,
    )
    _UNITS[engine] = Connections(engine, keep=pool_size)
    return engine


def _sqlite_engine(target: URL, timeout: float) -> AsyncEngine:
    memory = target.database in (None, "", ":memory:")
    if target.database and not memory:
        _create_private(Path(target.database))
    # SQLite writes one transaction at a time, and each aiosqlite connection keeps a
    # thread and a page cache: a few connections serve as well as many, for less memory.
    extra: dict[str, Any] = (
        {"poolclass": StaticPool}
        if memory
        else {"pool_size": 5, "max_overflow": 0, "pool_timeout": timeout}
    )
    engine = create_async_engine(
        target,
        connect_args={"timeout": timeout, "check_same_thread": False},
        hide_parameters=HIDE_PARAMETERS,
        **extra,
    )
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor, time.monotonic() + timeout)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read = connection.get_execution_options().get(READ, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    if not memory:
        _INLINE[engine] = InlineDatabase(target, timeout, HIDE_PARAMETERS)
    return engine


def _create_private(path: Path) -> None:
    """Create the database file, if new, readable by its owner only: it holds password
    hashes. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _enable_wal(cursor: Any, deadline: float) -> None:
    """Switch a new database to WAL (a no-op once it is). The switch needs the database
    to itself, and connections that open a new file together each hold a read lock while
    they wait for it: SQLite breaks that deadlock by refusing at once, without waiting
    for the busy timeout. This runs on aiosqlite's thread, never the loop's: it may
    sleep."""
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)
