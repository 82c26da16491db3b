"""The `Database` contract, on both backends: units of work commit or undo as they end,
reads change nothing and wait for no writer, a conditional update wins once, drivers'
errors become storage's, the Bearer lookup sees a revocation at once. And: the app's
PACED_DB_TIMEOUT reaches its database; bound parameters stay out of error messages; a
new SQLite database is created private, and switched to WAL however many connections
open it together."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import insert, select, text, update

from paced.core.errors import InvalidGrant
from paced.core.ids import digest
from paced.settings import Settings
from paced.storage import postgres, sqlite
from paced.storage.database import Database, open_database
from paced.storage.errors import Conflict, StorageError, Unavailable, Unstorable
from paced.storage.models import personal_tokens, users
from paced.storage.sqlite import enable_wal
from paced.web.app import create_app
from tests.helpers import begin, connect, statement_engines, user_values
from tests.token_rows import add_personal_token, add_user

POOL, TIMEOUT = 2, 0.5


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Database]:
    app = create_app(settings.model_copy(update={"db_pool_size": POOL, "db_timeout": TIMEOUT}))
    made: Database = app.state.paced.database
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


async def test_bound_parameters_stay_out_of_logs_and_error_messages(engine: Database) -> None:
    assert all(target.hide_parameters for target in statement_engines(engine))
    with pytest.raises(Exception) as raised:
        async with connect(engine) as connection:
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


def dbapi_error(orig: Exception, **extra: object) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.DBAPIError.instance("SELECT 1", {}, orig, Exception, **extra)


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


SQLITE_ERRORS = [
    (sqlite3.OperationalError("database is locked"), Unavailable),
    (dbapi_error(sqlite3.OperationalError("disk I/O error")), Unavailable),
    (sqlite3.IntegrityError("UNIQUE constraint failed"), Conflict),
    (sqlite3.DataError("string or blob too big"), Unstorable),
    (ValueError("a bug"), None),
]
POSTGRES_ERRORS = [
    (ConnectionRefusedError(), Unavailable),
    (TimeoutError(), Unavailable),
    (sqlalchemy.exc.TimeoutError(), Unavailable),
    (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), Unavailable),
    (asyncpg.exceptions.TooManyConnectionsError("too many clients"), Unavailable),
    (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), Unavailable),
    (dbapi_error(PgError("08006"), connection_invalidated=True), Unavailable),
    (dbapi_error(PgError("22021")), Unstorable),
    (asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"), Unstorable),
    (dbapi_error(PgError("23505")), Conflict),
    (asyncpg.exceptions.UniqueViolationError("duplicate key"), Conflict),
    (dbapi_error(PgError("42601")), None),
    (ValueError("a bug"), None),
]


@pytest.mark.parametrize(
    ("backend", "error", "kind"),
    [("sqlite", *case) for case in SQLITE_ERRORS]
    + [("postgresql", *case) for case in POSTGRES_ERRORS],
    ids=[
        "SQLite: a locked database",
        "SQLite: a disk error, through SQLAlchemy",
        "SQLite: a unique violation",
        "SQLite: a value too big",
        "SQLite: any other exception",
        "PostgreSQL: a refused connection",
        "PostgreSQL: a timeout",
        "PostgreSQL: no pooled connection in time",
        "PostgreSQL: starting or stopping",
        "PostgreSQL: out of connections",
        "PostgreSQL: a connection gone",
        "PostgreSQL: a connection lost mid-request",
        "PostgreSQL: a NUL it cannot store",
        "PostgreSQL: a NUL, from asyncpg",
        "PostgreSQL: a unique violation",
        "PostgreSQL: a unique violation, from asyncpg",
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
