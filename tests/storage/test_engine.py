"""PACED_DB_POOL_SIZE and PACED_DB_TIMEOUT reach the engine the app serves with; a new
SQLite database is switched to WAL however many connections open it together."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.settings import Settings
from paced.storage.engine import _enable_wal, dispose
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
