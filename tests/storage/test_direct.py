"""Statements marked `direct` run on the driver itself (paced/storage/direct.py): on
sqlite3 on a SQLite file, on asyncpg on PostgreSQL. They must read and write exactly
what SQLAlchemy would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Row, bindparam, insert, select, update

from paced.storage.database import Database, open_database
from paced.storage.direct import Uncompilable, direct
from paced.storage.errors import Conflict
from paced.storage.models import users
from paced.storage.postgres import PostgresConnection
from paced.storage.sqlite import SqliteConnection
from tests.helpers import connect, user_values

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

USER_BY_ID = direct(
    select(users.c.id, users.c.email.label("address"), users.c.created_at).where(
        users.c.id == bindparam("user_id")
    )
)
RENAME_UNLESS = direct(
    update(users)
    .where(users.c.id == bindparam("user_id"), users.c.name != bindparam("name"))
    .values(name=bindparam("name"), updated_at=bindparam("now"))
)
ADD_USER = direct(insert(users))
USERS_AMONG = direct(select(users.c.id).where(users.c.id.in_(bindparam("ids", expanding=True))))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    made = open_database(database_url)
    try:
        yield made
    finally:
        await made.close()


async def through_sqlalchemy(connection: Any, statement: Any, parameters: dict[str, Any]) -> Any:
    """The same statement run by SQLAlchemy on the same connection, to compare with."""
    if isinstance(connection, SqliteConnection):
        return connection._connection.execute(statement, parameters)
    assert isinstance(connection, PostgresConnection)
    return await connection.sqlalchemy.execute(statement, parameters)


async def test_a_direct_statement_reads_and_writes_what_sqlalchemy_would(
    engine: Database,
) -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with engine.unit_of_work() as store:
        await store.connection.execute(ADD_USER, user_values(1, at))
        # The same row through SQLAlchemy, to compare with.
        await store.connection.execute(insert(users).values(**user_values(2, at)))
    async with engine.unit_of_work() as store:
        connection = store.connection
        for n in (1, 2):
            fast = (await connection.execute(USER_BY_ID, {"user_id": f"user_{n:024d}"})).first()
            slow = await through_sqlalchemy(connection, USER_BY_ID, {"user_id": f"user_{n:024d}"})
            expected = slow.first()
            assert isinstance(fast, tuple) and not isinstance(fast, Row)
            assert tuple(fast) == tuple(expected)
            assert fast._fields == tuple(expected._fields) == ("id", "address", "created_at")
            assert fast.created_at == at and fast.created_at.tzinfo is UTC
        missing = await connection.execute(USER_BY_ID, {"user_id": "nobody"})
        assert missing.first() is None and list(missing) == []

        # A conditional UPDATE tells how many rows it changed, as its winner needs.
        renamed = {"user_id": "user_" + "1".zfill(24), "name": "Bea", "now": NOW}
        assert (await connection.execute(RENAME_UNLESS, renamed)).rowcount == 1
        assert (await connection.execute(RENAME_UNLESS, renamed)).rowcount == 0
    async with connect(engine) as check:
        row = (
            await check.execute(
                select(users.c.name, users.c.updated_at).where(users.c.id == renamed["user_id"])
            )
        ).one()
    assert tuple(row) == ("Bea", NOW)


async def test_a_direct_statement_fails_without_its_parameters_and_undoes_its_unit(
    engine: Database,
) -> None:
    async with engine.unit_of_work() as store:
        await store.connection.execute(ADD_USER, user_values(1, NOW))
    with pytest.raises(Conflict) as raised:
        async with engine.unit_of_work() as store:
            await store.connection.execute(ADD_USER, user_values(2, NOW))
            await store.connection.execute(ADD_USER, user_values(1, NOW))
    assert "u1@example.com" not in str(raised.value)
    async with connect(engine) as check:
        ids = (await check.execute(select(users.c.id))).scalars().all()
    assert ids == [f"user_{1:024d}"]


@pytest.mark.parametrize(
    ("statement", "parameters"),
    [
        (USERS_AMONG, {"ids": ["user_1"]}),
        (USER_BY_ID, {}),
        (USER_BY_ID, None),
    ],
    ids=["an expanding parameter", "a parameter not given", "no parameters"],
)
async def test_a_direct_statement_that_cannot_run_on_the_driver_raises(
    engine: Database, statement: Any, parameters: Any
) -> None:
    """Never a quiet detour through SQLAlchemy: the statement is to be fixed."""
    with pytest.raises(Uncompilable):
        async with engine.unit_of_work() as store:
            await store.connection.execute(statement, parameters)


async def test_an_unmarked_statement_runs_through_sqlalchemy(engine: Database) -> None:
    async with engine.unit_of_work() as store:
        for n in range(3):
            await store.connection.execute(ADD_USER, user_values(n, NOW))
        rows = await store.connection.execute(
            select(users.c.id).where(users.c.id.in_([f"user_{n:024d}" for n in (0, 2, 7)]))
        )
        assert sorted(row.id for row in rows) == [f"user_{n:024d}" for n in (0, 2)]
