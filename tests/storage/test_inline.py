"""Units of work on a SQLite file run on the event loop's thread (paced/storage/inline.py):
they must never make the loop wait for another process, nor for the disk."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.storage.engine import create_engine, dispose, inline
from paced.storage.inline import CHECKPOINT_EVERY, InlineDatabase
from paced.storage.models import users
from paced.storage.unit_of_work import reading, unit_of_work
from paced.web import errors

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TIMEOUT = 0.5


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if not database_url.startswith("sqlite"):
        pytest.skip("the inline path is SQLite's")
    made = create_engine(database_url, timeout=TIMEOUT)
    try:
        yield made
    finally:
        await dispose(made)


def twin_of(engine: AsyncEngine) -> InlineDatabase:
    twin = inline(engine)
    assert twin is not None
    return twin


async def add_users(engine: AsyncEngine, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        async with unit_of_work(engine) as store:
            await store.connection.execute(
                insert(users).values(
                    id=f"user_{n:024d}",
                    email=f"u{n}@example.com",
                    email_key=f"u{n}@example.com",
                    name="x" * 2000,  # a page of its own, more or less
                    time_zone="UTC",
                    password_hash="h",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


def hold_write_lock(path: str) -> sqlite3.Connection:
    """Another connection, as another process would be, in the middle of a write."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_a_locked_database_is_waited_for_without_blocking_the_loop(
    engine: AsyncEngine,
) -> None:
    other = hold_write_lock(twin_of(engine).path)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.2, other.rollback)
    started = time.monotonic()
    await add_users(engine, 1)
    waited = time.monotonic() - started
    ticker.cancel()
    other.close()
    assert 0.2 <= waited < TIMEOUT
    assert ticks >= 10  # the loop ran other work all along
    async with reading(engine) as store:
        assert len((await store.connection.execute(select(users.c.id))).all()) == 1


async def test_a_lock_held_past_the_timeout_fails_as_unavailable(engine: AsyncEngine) -> None:
    other = hold_write_lock(twin_of(engine).path)
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked") as raised:
            await add_users(engine, 1)
        assert TIMEOUT - 0.05 <= time.monotonic() - started < TIMEOUT + 0.5
        assert errors.is_unavailable(raised.value)  # a 503 with Retry-After
    finally:
        other.close()


async def test_the_wal_is_checkpointed_beside_the_loop_not_in_a_commit(
    engine: AsyncEngine,
) -> None:
    twin = twin_of(engine)
    await add_users(engine, 1)
    pending = twin._checkpoint
    if pending is not None:
        await pending
    size = os.stat(twin.path).st_size  # os.stat, not open(): see dispose()
    await add_users(engine, CHECKPOINT_EVERY - 2, start=1)
    # No commit copied the WAL into the database (SQLite's own checkpoint is off)...
    assert os.stat(twin.path).st_size == size
    await add_users(engine, 1, start=CHECKPOINT_EVERY)
    # ...until the hundredth, which handed a checkpoint to a worker thread.
    pending = twin._checkpoint
    assert pending is not None
    await pending
    assert os.stat(twin.path).st_size > size
