"""Units of work on PostgreSQL (paced/storage/postgres.py): SQLAlchemy and asyncpg share
one transaction, begun and ended on asyncpg, and a connection kept between units of
work is never left inside a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.errors import InvalidGrant
from paced.storage.engine import create_engine, dispose, units
from paced.storage.models import users
from paced.storage.postgres import Connections, PostgresConnection
from paced.storage.unit_of_work import unit_of_work
from paced.web import errors
from tests.helpers import user_values
from tests.storage.test_direct import ADD_USER

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
POOL = 3


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's units of work")
    made = create_engine(database_url, pool_size=POOL, timeout=5)
    try:
        yield made
    finally:
        await dispose(made)


def connections_of(engine: AsyncEngine) -> Connections:
    found = units(engine)
    assert found is not None
    return found


async def user_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as check:
        return list((await check.execute(select(users.c.id).order_by(users.c.id))).scalars())


async def in_transaction_elsewhere(engine: AsyncEngine) -> int:
    """Connections to this database, other than the asking one, inside a transaction."""
    async with engine.connect() as check:
        found = await check.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )
        return int(found.scalar_one())


@pytest.mark.parametrize(
    ("then", "kept"),
    [(None, True), (InvalidGrant("replayed"), True), (RuntimeError("bug"), False)],
    ids=["a unit that ends keeps both", "a PacedError keeps both", "a bug undoes both"],
)
async def test_sqlalchemy_and_asyncpg_statements_share_one_transaction(
    engine: AsyncEngine, then: BaseException | None, kept: bool
) -> None:
    try:
        async with unit_of_work(engine) as store:
            assert isinstance(store.connection, PostgresConnection)
            await store.connection.execute(ADD_USER, user_values(1, NOW))  # on asyncpg
            await store.connection.execute(insert(users).values(**user_values(2, NOW)))
            if then is not None:
                raise then
    except (InvalidGrant, RuntimeError):
        pass
    expected = [f"user_{n:024d}" for n in (1, 2)] if kept else []
    assert await user_ids(engine) == expected
    assert await in_transaction_elsewhere(engine) == 0


async def test_a_connection_serves_unit_after_unit_and_at_most_the_pool_size_wait(
    engine: AsyncEngine,
) -> None:
    seen = []
    for _ in range(3):
        async with unit_of_work(engine) as store:
            assert isinstance(store.connection, PostgresConnection)
            seen.append(store.connection.raw)
    assert seen[0] is seen[1] is seen[2]

    started = asyncio.Event()

    async def hold(n: int) -> None:
        async with unit_of_work(engine) as store:
            await store.connection.execute(ADD_USER, user_values(n, NOW))
            if n == POOL + 1:
                started.set()
            await started.wait()

    await asyncio.gather(*(hold(n) for n in range(POOL + 2)))
    assert len(connections_of(engine)._idle) == POOL
    assert len(await user_ids(engine)) == POOL + 2
    assert await in_transaction_elsewhere(engine) == 0


async def test_an_interrupted_unit_never_leaves_its_connection_in_a_transaction(
    engine: AsyncEngine,
) -> None:
    async def slow() -> None:
        async with unit_of_work(engine) as store:
            await store.connection.execute(ADD_USER, user_values(1, NOW))
            await store.connection.execute(text("SELECT pg_sleep(5)"))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await in_transaction_elsewhere(engine) == 0
    async with unit_of_work(engine) as store:
        await store.connection.execute(ADD_USER, user_values(2, NOW))
    assert await user_ids(engine) == [f"user_{2:024d}"]


async def test_a_connection_the_server_closed_fails_one_request_as_unavailable(
    engine: AsyncEngine,
) -> None:
    async with unit_of_work(engine) as store:
        assert isinstance(store.connection, PostgresConnection)
        pid = store.connection.raw.get_server_pid()
    async with engine.connect() as admin:
        await admin.execute(text(f"SELECT pg_terminate_backend({pid})"))
        await admin.commit()
    await asyncio.sleep(0.2)
    with pytest.raises(Exception) as raised:
        async with unit_of_work(engine) as store:
            await store.connection.execute(ADD_USER, user_values(1, NOW))
    assert errors.is_unavailable(raised.value), repr(raised.value)
    # The kept connections were let go with it: the next unit of work opens a new one.
    assert connections_of(engine)._idle == []
    async with unit_of_work(engine) as store:
        await store.connection.execute(ADD_USER, user_values(2, NOW))
    assert await user_ids(engine) == [f"user_{2:024d}"]


async def test_disposing_of_the_engine_closes_the_kept_connections(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's units of work")
    engine = create_engine(database_url, pool_size=POOL)
    async with unit_of_work(engine) as store:
        assert isinstance(store.connection, PostgresConnection)
        raw = store.connection.raw
    await dispose(engine)
    assert raw.is_closed()
