"""PACED_DB_POOL_SIZE and PACED_DB_TIMEOUT reach the engine the app serves with; a new
SQLite database is switched to WAL however many connections open it together."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.settings import Settings
from paced.storage.engine import _enable_wal, create_engine, dispose
from paced.web.app import create_app
from tests.helpers import statement_engines

POOL, TIMEOUT = 2, 0.5


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    app = create_app(settings.model_copy(update={"db_pool_size": POOL, "db_timeout": TIMEOUT}))
    made: AsyncEngine = app.state.paced.engine
    try:
        yield made
    finally:
        await dispose(made)


async def test_a_process_holds_its_pool_then_waits_the_timeout_for_a_connection(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name == "postgresql":
        assert engine.pool.size() == POOL
        capacity = 2 * POOL  # as many again may overflow
    else:
        capacity = engine.pool.size()  # SQLite keeps a small fixed pool
    async with AsyncExitStack() as held:
        for _ in range(capacity):
            await held.enter_async_context(engine.connect())
        started = time.monotonic()
        with pytest.raises(sqlalchemy.exc.TimeoutError):
            await engine.connect().__aenter__()
        assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 2


async def test_a_wait_inside_the_database_is_cut_off_at_the_timeout(engine: AsyncEngine) -> None:
    started = time.monotonic()
    async with AsyncExitStack() as held:
        if engine.dialect.name == "postgresql":
            connection = await held.enter_async_context(engine.connect())
            waiting = connection.execute(text("SELECT pg_sleep(5)"))
        else:  # one writer holds the lock; the next waits SQLite's busy timeout
            await held.enter_async_context(engine.begin())
            waiting = held.enter_async_context(engine.begin())
        with pytest.raises((TimeoutError, sqlalchemy.exc.DBAPIError)):
            await waiting
    assert TIMEOUT <= time.monotonic() - started < 4


async def test_bound_parameters_stay_out_of_logs_and_error_messages(engine: AsyncEngine) -> None:
    assert all(target.hide_parameters for target in statement_engines(engine))
    with pytest.raises(sqlalchemy.exc.DBAPIError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": "pw"})
    assert "'pw'" not in str(raised.value)
    assert "hidden due to hide_parameters=True" in str(raised.value)


class SwitchingCursor:
    """A cursor whose WAL switch SQLite refuses `refusals` times, as it does to
    connections that open a new database together."""

    def __init__(self, refusals: int, error: str = "database is locked") -> None:
        self.refusals, self.error, self.tries = refusals, error, 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode=WAL"
        self.tries += 1
        if self.tries <= self.refusals:
            raise sqlite3.OperationalError(self.error)


def test_a_refused_switch_to_wal_is_tried_again_until_the_timeout() -> None:
    cursor = SwitchingCursor(refusals=3)
    _enable_wal(cursor, time.monotonic() + 5)
    assert cursor.tries == 4

    stubborn = SwitchingCursor(refusals=1000)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _enable_wal(stubborn, started + 0.1)
    assert 0.1 <= time.monotonic() - started < 1

    broken = SwitchingCursor(refusals=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _enable_wal(broken, time.monotonic() + 5)
    assert broken.tries == 1


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service (files 0644 unless made otherwise)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# Audit finding 9a: the database holds password hashes; only its owner may read it.
async def test_a_new_sqlite_database_and_its_wal_and_shm_are_readable_by_the_owner_only(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "data" / "paced.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as connection:  # the WAL and SHM live while it is open
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
            await connection.execute(text("INSERT INTO notes VALUES ('a hash')"))
            modes = {
                name: stat.S_IMODE((path.parent / name).stat().st_mode)
                for name in ("paced.db", "paced.db-wal", "paced.db-shm")
            }
    finally:
        await dispose(engine)
    assert modes == {"paced.db": 0o600, "paced.db-wal": 0o600, "paced.db-shm": 0o600}
