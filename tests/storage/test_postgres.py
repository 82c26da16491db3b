"""Units of work on PostgreSQL (paced/storage/postgres.py): every statement runs in one
transaction, begun and ended on asyncpg; a connection kept between units of work is
never left inside a transaction, and connections go to those that wait in the order they
came."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import insert, select, text

from paced.core.errors import InvalidGrant
from paced.storage.database import Database, open_database
from paced.storage.errors import Unavailable
from paced.storage.models import users
from paced.storage.postgres import Pool, PostgresConnection, PostgresDatabase
from tests.helpers import connect, user_values

ADD_USER = insert(users)
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
POOL = 3


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's units of work")
    made = open_database(database_url, pool_size=POOL, timeout=5)
    try:
        yield made
    finally:
        await made.close()


def connections_of(engine: Database) -> Pool:
    assert isinstance(engine, PostgresDatabase)
    return engine.pool


async def user_ids(engine: Database) -> list[str]:
    async with connect(engine) as check:
        return list((await check.execute(select(users.c.id).order_by(users.c.id))).scalars())


async def in_transaction_elsewhere(engine: Database) -> int:
    """Connections to this database, other than the asking one, inside a transaction."""
    async with connect(engine) as check:
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
async def test_a_prebuilt_and_a_per_call_statement_share_one_transaction(
    engine: Database, then: BaseException | None, kept: bool
) -> None:
    try:
        async with engine.unit_of_work() as store:
            assert isinstance(store.connection, PostgresConnection)
            await store.connection.execute(ADD_USER, user_values(1, NOW))
            await store.connection.execute(insert(users).values(**user_values(2, NOW)))
            if then is not None:
                raise then
    except (InvalidGrant, RuntimeError):
        pass
    expected = [f"user_{n:024d}" for n in (1, 2)] if kept else []
    assert await user_ids(engine) == expected
    assert await in_transaction_elsewhere(engine) == 0


async def test_a_connection_serves_unit_after_unit_and_those_opened_for_a_burst_stay(
    engine: Database,
) -> None:
    seen = []
    for _ in range(3):
        async with engine.unit_of_work() as store:
            assert isinstance(store.connection, PostgresConnection)
            seen.append(store.connection.raw)
    assert seen[0] is seen[1] is seen[2]

    started = asyncio.Event()

    async def hold(n: int) -> None:
        async with engine.unit_of_work() as store:
            await store.connection.execute(ADD_USER, user_values(n, NOW))
            if n == POOL + 1:
                started.set()
            await started.wait()

    await asyncio.gather(*(hold(n) for n in range(POOL + 2)))
    assert len(connections_of(engine)._idle) == POOL + 2  # opened for the burst, kept
    assert len(await user_ids(engine)) == POOL + 2
    assert await in_transaction_elsewhere(engine) == 0


async def test_an_interrupted_unit_never_leaves_its_connection_in_a_transaction(
    engine: Database,
) -> None:
    async def slow() -> None:
        async with engine.unit_of_work() as store:
            await store.connection.execute(ADD_USER, user_values(1, NOW))
            await store.connection.execute(text("SELECT pg_sleep(5)"))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await in_transaction_elsewhere(engine) == 0
    async with engine.unit_of_work() as store:
        await store.connection.execute(ADD_USER, user_values(2, NOW))
    assert await user_ids(engine) == [f"user_{2:024d}"]


async def test_a_connection_the_server_closed_fails_one_request_as_unavailable(
    engine: Database,
) -> None:
    async with engine.unit_of_work() as store:
        assert isinstance(store.connection, PostgresConnection)
        pid = store.connection.raw.get_server_pid()
    admin = await asyncpg.connect(
        engine.url.render_as_string(False)  # type: ignore[attr-defined]
    )
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    try:
        async with engine.unit_of_work() as store:
            await store.connection.execute(ADD_USER, user_values(1, NOW))
    except Unavailable:  # unless the pool saw the connection closed while idle
        # The kept connections were let go with it: the next unit of work opens a new one.
        assert connections_of(engine)._idle == []
    async with engine.unit_of_work() as store:
        await store.connection.execute(ADD_USER, user_values(2, NOW))
    assert f"user_{2:024d}" in await user_ids(engine)


async def test_disposing_of_the_engine_closes_the_kept_connections(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's units of work")
    engine = open_database(database_url, pool_size=POOL)
    async with engine.unit_of_work() as store:
        assert isinstance(store.connection, PostgresConnection)
        raw = store.connection.raw
    await engine.close()
    assert raw.is_closed()


async def test_connections_go_to_those_that_waited_longest(engine: Database) -> None:
    """A connection given back goes to the oldest waiter, and one that arrives while
    others wait queues behind them, however many come after."""
    pool = connections_of(engine)
    held = [await pool.take() for _ in range(2 * POOL)]
    order: list[int] = []

    async def wait_turn(n: int) -> None:
        connection = await pool.take()
        order.append(n)
        await asyncio.sleep(0.01)
        await pool.give_back(connection)

    waiters = []
    for n in range(10):
        waiters.append(asyncio.create_task(wait_turn(n)))
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert order == []
    await pool.give_back(held.pop())
    await asyncio.sleep(0)
    # Newcomers while the ten wait: they queue behind them.
    late = [asyncio.create_task(wait_turn(n)) for n in range(10, 13)]
    for connection in held:
        await pool.give_back(connection)
    await asyncio.gather(*waiters, *late)
    assert order == list(range(13))


async def test_a_unit_of_work_that_waits_past_the_timeout_is_unavailable(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool")
    database = open_database(database_url, pool_size=1, timeout=0.3)
    release = asyncio.Event()

    async def hold() -> None:
        async with database.unit_of_work():
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0.2)
    try:
        with pytest.raises(Unavailable):
            async with database.unit_of_work():
                pass
    finally:
        release.set()
        await asyncio.gather(*holders)
        await database.close()
