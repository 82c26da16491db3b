"""The `Database` contract, on both backends: units of work commit or undo as they end,
reads change nothing and wait for no writer, a conditional update wins once, drivers'
errors become storage's, the Bearer lookup sees a revocation at once. And: the app's
PACED_DB_TIMEOUT reaches its database; bound parameters stay out of error messages; a
new SQLite database is created private, and switched to WAL however many connections
open it together. And the one executor every statement runs on: named rows, values
converted both ways, row counts, RETURNING, IN lists, streams, savepoints, plans reused
across literal values, and `Uncompilable` for what it cannot run."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, aclosing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from paced.core.errors import InvalidGrant
from paced.core.ids import digest
from paced.settings import Settings
from paced.storage import postgres, sqlite
from paced.storage.compiled import Plans, Uncompilable
from paced.storage.database import Database, open_database
from paced.storage.errors import Conflict, StorageError, Unavailable, Unstorable
from paced.storage.models import personal_tokens, users
from paced.storage.sqlite import enable_wal
from paced.web.app import create_app
from tests.helpers import begin, connect, user_values
from tests.token_rows import add_personal_token, add_user

POOL, TIMEOUT = 2, 0.5


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Database]:
    app = create_app(settings.model_copy(update={"db_pool_size": POOL, "db_timeout": TIMEOUT}))
    made: Database = app.paced.database
    try:
        yield made
    finally:
        await made.close()


async def test_a_wait_inside_the_database_is_cut_off_at_the_timeout(engine: Database) -> None:
    started = time.monotonic()
    async with AsyncExitStack() as held:
        if engine.backend == "postgresql":
            connection = await held.enter_async_context(connect(engine))
            waiting = connection.execute(text("SELECT pg_sleep(5)"))
        else:  # another process holds the write lock; a writer waits for it, no longer
            other = sqlite3.connect(engine.path, isolation_level=None)  # type: ignore[attr-defined]
            other.execute("BEGIN IMMEDIATE")
            held.callback(other.close)
            waiting = held.enter_async_context(begin(engine))
        with pytest.raises(Unavailable):
            await waiting
    assert TIMEOUT - 0.05 <= time.monotonic() - started < 4


async def test_bound_parameters_stay_out_of_error_messages(engine: Database) -> None:
    with pytest.raises(Exception) as raised:
        async with connect(engine) as connection:
            await connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": "pw"})
    assert "pw" not in str(raised.value)


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
    enable_wal(cursor, time.monotonic() + 5)
    assert cursor.tries == 4

    stubborn = SwitchingCursor(refusals=1000)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(stubborn, started + 0.1)
    assert 0.1 <= time.monotonic() - started < 1

    broken = SwitchingCursor(refusals=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        enable_wal(broken, time.monotonic() + 5)
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
    engine = open_database(f"sqlite:///{path}")
    try:
        async with begin(engine) as connection:  # the WAL and SHM live while it is open
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
            await connection.execute(text("INSERT INTO notes VALUES ('a hash')"))
            modes = {
                name: stat.S_IMODE((path.parent / name).stat().st_mode)
                for name in ("paced.db", "paced.db-wal", "paced.db-shm")
            }
    finally:
        await engine.close()
    assert modes == {"paced.db": 0o600, "paced.db-wal": 0o600, "paced.db-shm": 0o600}


# --- the contract, on both backends ---------------------------------------------------------


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    made = open_database(database_url, pool_size=POOL, timeout=5)
    try:
        yield made
    finally:
        await made.close()


NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
USER = user_values(1, NOW)


async def names(database: Database) -> list[str]:
    async with database.reading() as store:
        return list((await store.connection.execute(select(users.c.name))).scalars())


@pytest.mark.parametrize(
    ("then", "kept"),
    [(None, True), (InvalidGrant("replayed"), True), (RuntimeError("bug"), False)],
    ids=["a unit that ends commits", "a PacedError commits", "a bug undoes it all"],
)
async def test_a_unit_of_work_commits_unless_something_unexpected_ends_it(
    database: Database, then: Exception | None, kept: bool
) -> None:
    try:
        async with database.unit_of_work() as store:
            await store.connection.execute(insert(users).values(**USER))
            if then is not None:
                raise then
    except (InvalidGrant, RuntimeError) as raised:
        assert raised is then
    assert await names(database) == (["Ann"] if kept else [])


async def test_a_read_waits_for_no_writer_and_sees_only_what_is_committed(
    database: Database,
) -> None:
    async with database.unit_of_work() as store:
        await store.connection.execute(insert(users).values(**USER))
    async with database.unit_of_work() as writer:  # on SQLite, it holds the write lock
        await writer.connection.execute(update(users).values(name="Bea"))
        async with asyncio.timeout(2), database.reading() as reader:
            seen = (await reader.connection.execute(select(users.c.name))).scalars().all()
        assert seen == ["Ann"]  # not what is uncommitted
    assert await names(database) == ["Bea"]


async def test_a_conditional_update_wins_once_among_concurrent_units_of_work(
    database: Database,
) -> None:
    async with database.unit_of_work() as store:
        await store.connection.execute(insert(users).values(**USER))

    async def claim(n: int) -> bool:
        async with database.unit_of_work() as store:
            result = await store.connection.execute(
                update(users).where(users.c.name == "Ann").values(name=f"claimed {n}")
            )
            return result.rowcount == 1

    won = await asyncio.gather(*(claim(n) for n in range(12)))
    assert won.count(True) == 1
    assert await names(database) == [f"claimed {won.index(True)}"]


async def test_a_duplicate_row_is_a_conflict_that_undoes_only_its_savepoint(
    database: Database,
) -> None:
    async with database.unit_of_work() as store:
        await store.connection.execute(insert(users).values(**USER))
        with pytest.raises(Conflict):
            async with store.connection.begin_nested():
                await store.connection.execute(insert(users).values(**USER))
        await store.connection.execute(update(users).values(name="Bea"))
    assert await names(database) == ["Bea"]


async def test_a_value_the_database_refuses_is_unstorable(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite stores a NUL character")
    with pytest.raises(Unstorable):
        async with database.unit_of_work() as store:
            await store.connection.execute(insert(users).values(**{**USER, "name": "A\x00n"}))
    assert await names(database) == []


async def test_the_bearer_lookup_sees_a_revocation_at_the_next_lookup(
    database: Database,
) -> None:
    user = await add_user(database, NOW)
    issued = await add_personal_token(database, user, NOW)
    found = await database.personal_bearer_token(digest(issued.secret))
    assert found is not None and not found.revoked
    async with database.unit_of_work() as store:
        await store.connection.execute(
            update(personal_tokens)
            .where(personal_tokens.c.id == issued.token.id)
            .values(revoked_at=NOW)
        )
    again = await database.personal_bearer_token(digest(issued.secret))
    assert again is not None and again.revoked


SQLITE_ERRORS = [
    (sqlite3.OperationalError("database is locked"), Unavailable),
    (sqlite3.OperationalError("disk I/O error"), Unavailable),
    (sqlite3.IntegrityError("UNIQUE constraint failed"), Conflict),
    (sqlite3.DataError("string or blob too big"), Unstorable),
    (ValueError("a bug"), None),
]
POSTGRES_ERRORS = [
    (ConnectionRefusedError(), Unavailable),
    (TimeoutError(), Unavailable),
    (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), Unavailable),
    (asyncpg.exceptions.TooManyConnectionsError("too many clients"), Unavailable),
    (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), Unavailable),
    (asyncpg.exceptions.ConnectionFailureError("connection lost"), Unavailable),
    (asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"), Unstorable),
    (asyncpg.exceptions.UniqueViolationError("duplicate key"), Conflict),
    (asyncpg.exceptions.PostgresSyntaxError("syntax error"), None),
    (ValueError("a bug"), None),
]


@pytest.mark.parametrize(
    ("backend", "error", "kind"),
    [("sqlite", *case) for case in SQLITE_ERRORS]
    + [("postgresql", *case) for case in POSTGRES_ERRORS],
    ids=[
        "SQLite: a locked database",
        "SQLite: a disk error",
        "SQLite: a unique violation",
        "SQLite: a value too big",
        "SQLite: any other exception",
        "PostgreSQL: a refused connection",
        "PostgreSQL: a timeout",
        "PostgreSQL: starting or stopping",
        "PostgreSQL: out of connections",
        "PostgreSQL: a connection gone",
        "PostgreSQL: a connection lost mid-request",
        "PostgreSQL: a NUL it cannot store",
        "PostgreSQL: a unique violation",
        "PostgreSQL: a syntax error (a bug: raised as it is)",
        "PostgreSQL: any other exception",
    ],
)
def test_each_database_turns_its_drivers_errors_into_storage_errors(
    backend: str, error: Exception, kind: type[StorageError] | None
) -> None:
    translating = sqlite.storage_errors if backend == "sqlite" else postgres.storage_errors
    with pytest.raises(kind or type(error)) as raised, translating():
        raise error
    if kind is not None:
        assert raised.value.__cause__ is error
    else:
        assert raised.value is error


# --- the one executor (paced/storage/compiled.py), on both backends ---------------------------

USER_BY_ID = select(users.c.id, users.c.email.label("address"), users.c.created_at).where(
    users.c.id == bindparam("user_id")
)
RENAME_UNLESS = (
    update(users)
    .where(users.c.id == bindparam("user_id"), users.c.name != bindparam("name"))
    .values(name=bindparam("name"), updated_at=bindparam("now"))
)
USERS_AMONG = select(users.c.id).where(users.c.id.in_(bindparam("ids", expanding=True)))
_notes = Table(
    "notes_with_a_python_default",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("body", String, default=lambda: "computed in Python"),
)


class Uncacheable(ColumnElement[int]):
    """A construct SQLAlchemy cannot make a cache key of."""

    inherit_cache = False
    type = Integer()


@compiles(Uncacheable)
def _one(element: Uncacheable, compiler: Any, **kw: Any) -> str:
    return "1"


def user_id(n: int) -> str:
    return f"user_{n:024d}"


async def add_users(database: Database, count: int) -> None:
    async with database.unit_of_work() as store:
        for n in range(count):
            await store.connection.execute(insert(users), user_values(n, NOW))


async def test_rows_are_named_tuples_with_values_converted_both_ways(database: Database) -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with database.unit_of_work() as store:
        await store.connection.execute(insert(users), user_values(1, at))
    async with database.reading() as store:
        found = (await store.connection.execute(USER_BY_ID, {"user_id": user_id(1)})).first()
        missing = await store.connection.execute(USER_BY_ID, {"user_id": "nobody"})
    assert isinstance(found, tuple) and found._fields == ("id", "address", "created_at")
    assert found.address == "u1@example.com"
    assert found.created_at == at and found.created_at.tzinfo is UTC
    assert missing.first() is None and missing.all() == [] and missing.scalar() is None


async def test_an_update_and_a_delete_tell_how_many_rows_they_changed(database: Database) -> None:
    await add_users(database, 3)
    async with database.unit_of_work() as store:
        renamed = {"user_id": user_id(1), "name": "Bea", "now": NOW}
        assert (await store.connection.execute(RENAME_UNLESS, renamed)).rowcount == 1
        assert (await store.connection.execute(RENAME_UNLESS, renamed)).rowcount == 0
        everyone = await store.connection.execute(update(users).values(time_zone="UTC"))
        assert everyone.rowcount == 3
        gone = await store.connection.execute(delete(users).where(users.c.id != user_id(1)))
        assert gone.rowcount == 2
    assert await names(database) == ["Bea"]


async def test_returning_gives_the_rows_written(database: Database) -> None:
    async with database.unit_of_work() as store:
        added = await store.connection.execute(
            insert(users).returning(users.c.id, users.c.name), user_values(1, NOW)
        )
        assert [tuple(row) for row in added] == [(user_id(1), "Ann")]
        renamed = await store.connection.execute(
            update(users).values(name="Bea").returning(users.c.name.label("now_named"))
        )
        assert renamed.rowcount == 1 and renamed.first().now_named == "Bea"
        assert (
            await store.connection.execute(delete(users).returning(users.c.id))
        ).scalar_one() == user_id(1)


async def test_a_statement_with_other_literal_values_reuses_its_plan(database: Database) -> None:
    await add_users(database, 3)
    async with database.reading() as store:
        found = []
        for n in (0, 2, 7):
            statement = select(users.c.email).where(users.c.id == user_id(n))
            found.append((await store.connection.execute(statement)).scalar())
        plans = len(database.plans._plans)
        again = select(users.c.email).where(users.c.id == user_id(1))
        assert (await store.connection.execute(again)).scalar() == "u1@example.com"
        assert len(database.plans._plans) == plans
    assert found == ["u0@example.com", "u2@example.com", None]


def test_plans_are_kept_for_the_statements_used_last() -> None:
    plans = Plans(SQLiteDialect_pysqlite(dbapi=sqlite3), size=2)
    made = [select(users.c.id).where(users.c.name == "x").limit(n) for n in (1, 2)]
    statements = [select(users.c.id), select(users.c.name), select(users.c.email)]
    first, _ = plans.plan(statements[0], None)
    plans.plan(statements[1], None)
    assert plans.plan(statements[0], None)[0] is first  # used last: kept
    plans.plan(statements[2], None)
    assert plans.plan(statements[0], None)[0] is first
    assert len(plans._plans) == 2
    # Built alike with other literal values: one plan.
    assert plans.plan(made[0], None)[0] is plans.plan(made[1], None)[0]


@pytest.mark.parametrize(
    "among",
    [[], [0], [0, 2], [0, 1, 2, 9]],
    ids=["no value", "one value", "two values", "four values, one unknown"],
)
async def test_an_in_list_of_any_length_finds_its_rows(
    database: Database, among: list[int]
) -> None:
    await add_users(database, 3)
    expected = sorted(user_id(n) for n in among if n < 3)
    ids = [user_id(n) for n in among]
    async with database.reading() as store:
        literal = select(users.c.id).where(users.c.id.in_(ids)).order_by(users.c.id)
        given = await store.connection.execute(USERS_AMONG, {"ids": ids})
        assert list((await store.connection.execute(literal)).scalars()) == expected
        assert sorted(given.scalars().all()) == expected


async def test_a_large_select_is_streamed_in_order(database: Database) -> None:
    count = 1234  # more than a batch of the driver's cursor
    await add_users(database, count)
    async with database.reading() as store:
        seen = [
            row.id async for row in store.connection.stream(select(users.c.id).order_by(users.c.id))
        ]
        # A stream left early is closed, and the read goes on.
        async with aclosing(store.connection.stream(select(users.c.id))) as rows:
            async for _ in rows:
                break
        assert (await store.connection.execute(select(func.count()).select_from(users))).scalar()
    assert seen == [user_id(n) for n in range(count)]


async def test_a_write_runs_once_for_each_set_of_parameters(database: Database) -> None:
    async with database.unit_of_work() as store:
        await store.connection.execute(insert(users), [user_values(n, NOW) for n in range(3)])
    assert await names(database) == ["Ann"] * 3


async def test_a_savepoint_keeps_what_succeeds_and_undoes_what_fails(database: Database) -> None:
    async with database.unit_of_work() as store:
        async with store.connection.begin_nested():
            await store.connection.execute(insert(users), user_values(1, NOW))
        with pytest.raises(RuntimeError):
            async with store.connection.begin_nested():
                await store.connection.execute(insert(users), user_values(2, NOW))
                async with store.connection.begin_nested():
                    await store.connection.execute(insert(users), user_values(3, NOW))
                raise RuntimeError("undo both")
    async with database.reading() as store:
        ids = (await store.connection.execute(select(users.c.id))).scalars().all()
    assert ids == [user_id(1)]


@pytest.mark.parametrize(
    ("statement", "parameters"),
    [
        (USER_BY_ID, {}),
        (USER_BY_ID, [{"user_id": "a"}, {"user_id": "b"}]),
        (update(users).values(name=bindparam("name")), [{"name": "a"}, {"names": "b"}]),
        (insert(_notes), {"id": 1}),
        ("SELECT 1", None),
        (select(Uncacheable().label("one")), None),
    ],
    ids=[
        "a parameter not given",
        "several sets of parameters for a SELECT",
        "sets of parameters that name different parameters",
        "a column default computed in Python",
        "a string, not a statement",
        "a construct without a cache key",
    ],
)
async def test_a_statement_the_executor_cannot_run_raises(
    database: Database, statement: Any, parameters: Any
) -> None:
    """Never a quiet detour through a slower path: the statement is to be fixed."""
    with pytest.raises(Uncompilable):
        async with database.unit_of_work() as store:
            await store.connection.execute(statement, parameters)


def test_the_app_loads_no_library_that_only_some_requests_need(database_url: str) -> None:
    """Every worker would carry their memory for nothing: the ORM and SQLAlchemy's
    asyncio extension never run in a worker, and cryptography (sealing) and webauthn
    (passkeys) are imported on their first use. `paced serve` runs the app in the CLI's
    process, so the CLI's imports count too."""
    script = (
        "import sys\n"
        "import paced.cli.main\n"
        "from paced.settings import Settings\n"
        "from paced.web.app import create_app\n"
        f"create_app(Settings(_env_file=None, database_url={database_url!r},"
        " secret_key='k' * 40))\n"
        "print(sorted(m for m in ('sqlalchemy.orm', 'sqlalchemy.ext.asyncio',"
        " 'cryptography', 'webauthn') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
