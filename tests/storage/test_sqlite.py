"""Units of work on a SQLite file run on the event loop's thread (paced/storage/sqlite.py):
they must never make the loop wait for another process, nor for the disk."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from paced.core.errors import InvalidGrant
from paced.storage.database import Database, open_database
from paced.storage.errors import Conflict, Unavailable
from paced.storage.models import personal_tokens, users
from paced.storage.sqlite import (
    CHECKPOINT_EVERY,
    READER_CACHE_KIB,
    WRITER_CACHE_KIB,
    SqliteDatabase,
)
from tests.helpers import user_values

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TIMEOUT = 0.5


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("sqlite"):
        pytest.skip("the inline path is SQLite's")
    made = open_database(database_url, timeout=TIMEOUT)
    try:
        yield made
    finally:
        await made.close()


def twin_of(engine: Database) -> SqliteDatabase:
    assert isinstance(engine, SqliteDatabase)
    return engine


async def add_users(engine: Database, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        async with engine.unit_of_work() as store:
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
    engine: Database,
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
    async with engine.reading() as store:
        assert len((await store.connection.execute(select(users.c.id))).all()) == 1


async def test_a_lock_held_past_the_timeout_fails_as_unavailable(engine: Database) -> None:
    other = hold_write_lock(twin_of(engine).path)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="locked"):  # a 503 with Retry-After
            await add_users(engine, 1)
        assert TIMEOUT - 0.05 <= time.monotonic() - started < TIMEOUT + 0.5
    finally:
        other.close()


async def test_the_wal_is_checkpointed_beside_the_loop_not_in_a_commit(
    engine: Database,
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


async def test_the_wal_starts_again_from_its_beginning_while_writes_go_on(
    engine: Database,
) -> None:
    twin = twin_of(engine)
    wal = twin.path + "-wal"
    await add_users(engine, CHECKPOINT_EVERY - 1)
    hundred_commits = os.stat(wal).st_size
    for n in range(CHECKPOINT_EVERY - 1, 6 * CHECKPOINT_EVERY):
        await add_users(engine, 1, start=n)
        await asyncio.sleep(0)  # as between requests: the checkpoint may take its turn
    pending = twin._checkpoint
    if pending is not None:
        await pending
    # Five checkpoints ran while the writes went on. Each copied the whole WAL, since the
    # writers waited for it, so the next write began the WAL again instead of adding a
    # hundred commits to it.
    assert os.stat(wal).st_size < 2 * hundred_commits


# --- group commit: writers that end together share one COMMIT -------------------------------


def committed_users(path: str) -> set[int]:
    """What another process sees: committed rows only."""
    other = sqlite3.connect(path)
    try:
        return {int(row[0][5:]) for row in other.execute("SELECT id FROM users")}
    finally:
        other.close()


def count_commits(engine: Database) -> list[str]:
    """Every COMMIT the writers' connection sends from now on."""
    sent: list[str] = []
    twin = twin_of(engine)
    raw = twin._writer_connection()
    assert raw is not None
    raw.set_trace_callback(lambda sql: sent.append(sql) if sql.upper() == "COMMIT" else None)  # type: ignore[attr-defined]
    return sent


async def write(
    engine: Database,
    n: int,
    *,
    then: BaseException | None = None,
    seen: list[bool] | None = None,
) -> None:
    async with engine.unit_of_work() as store:
        await store.connection.execute(insert(users).values(**user_values(n, NOW)))
        if then is not None:
            raise then
    if seen is not None:  # back from the unit of work: is the row on disk for everyone?
        seen.append(n in committed_users(twin_of(engine).path))


async def test_writers_that_end_together_share_one_commit_and_leave_once_it_is_done(
    engine: Database,
) -> None:
    commits = count_commits(engine)
    seen: list[bool] = []
    await asyncio.gather(*(write(engine, n, seen=seen) for n in range(8)))
    assert committed_users(twin_of(engine).path) == set(range(8))
    assert seen == [True] * 8  # none returned before its row was committed
    assert 1 <= len(commits) < 8


async def test_a_unit_that_fails_in_a_batch_undoes_itself_alone(engine: Database) -> None:
    outcomes = await asyncio.gather(
        write(engine, 1),
        write(engine, 2, then=RuntimeError("a bug")),  # unexpected: undone
        write(engine, 3, then=InvalidGrant("refused")),  # a PacedError: kept, then raised
        write(engine, 4),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == [
        "NoneType",
        "RuntimeError",
        "InvalidGrant",
        "NoneType",
    ]
    assert committed_users(twin_of(engine).path) == {1, 3, 4}


async def test_a_commit_that_fails_fails_every_writer_of_its_batch(engine: Database) -> None:
    async def breaks_at_commit() -> None:
        async with engine.unit_of_work() as store:
            # A foreign key checked only at COMMIT, pointing nowhere.
            await store.connection.execute(text("PRAGMA defer_foreign_keys = ON"))
            await store.connection.execute(
                insert(personal_tokens).values(
                    id="pt_1",
                    user_id="nobody",
                    name="t",
                    digest="d" * 64,
                    scopes="read",
                    created_at=NOW,
                )
            )

    outcomes = await asyncio.gather(
        write(engine, 1), breaks_at_commit(), write(engine, 2), return_exceptions=True
    )
    assert all(isinstance(o, Conflict) for o in outcomes), outcomes
    assert committed_users(twin_of(engine).path) == set()
    # The writers' connection goes on serving.
    await write(engine, 3)
    assert committed_users(twin_of(engine).path) == {3}


async def test_readers_keep_a_smaller_page_cache_than_the_writer(engine: Database) -> None:
    async with engine.reading() as store:
        found = await store.connection.execute(text("PRAGMA cache_size"))
        assert found.scalar_one() == -READER_CACHE_KIB
    async with engine.unit_of_work() as store:
        found = await store.connection.execute(text("PRAGMA cache_size"))
        assert found.scalar_one() == -WRITER_CACHE_KIB
