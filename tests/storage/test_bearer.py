"""The Bearer lookup of each `Database`: one indexed read by digest that takes no write
lock, and conditional last-use writes."""

from __future__ import annotations

import asyncio
import time
from collections import namedtuple
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Float, Integer, bindparam, func, literal_column, select, update
from sqlalchemy.engine import make_url

from paced.core.ids import digest
from paced.storage.bearer import PERSONAL_ANY
from paced.storage.database import Database, open_database
from paced.storage.errors import Unavailable, Unstorable
from paced.storage.models import grants, personal_tokens
from paced.storage.postgres import Lookups, PostgresDatabase
from paced.storage.sqlite import SqliteDatabase
from tests.helpers import connect, listen_statements
from tests.token_rows import add_oauth_token, add_personal_token, add_user

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url, timeout=5)
    try:
        yield engine
    finally:
        await engine.close()


def count_statements(engine: Database) -> list[str]:
    statements: list[str] = []

    def _record(statement: str, _values: object) -> None:
        statements.append(statement.split()[0].upper())

    listen_statements(engine, _record)
    return statements


def count_queries(database: Database) -> list[str]:
    """The Bearer statements the database sends on its driver's own connection, by the
    table they read."""
    queries: list[str] = []
    name = "_bearer_row" if isinstance(database, SqliteDatabase) else "fetch"
    send = getattr(database, name)

    def spy(statement: Any, *args: Any) -> Any:
        sql = str(statement)
        queries.append("personal" if "FROM personal_tokens" in sql else "oauth")
        return send(statement, *args)

    setattr(database, name, spy)
    return queries


async def test_a_personal_token_is_found_by_its_digest_with_its_user(engine: Database) -> None:
    user = await add_user(engine, NOW)
    issued = await add_personal_token(
        engine, user, NOW, scopes=("write",), expires_at=NOW + timedelta(days=1)
    )
    statements = count_statements(engine)
    queries = count_queries(engine)
    found = await engine.personal_bearer_token(digest(issued.secret))
    assert found is not None
    assert queries == ["personal"] and statements == ["SELECT"]  # one read, and nothing else
    assert (found.kind, found.id, found.user, found.scopes) == (
        "personal",
        issued.token.id,
        user,
        ("write",),
    )
    assert found.expires_at == NOW + timedelta(days=1)
    assert not found.revoked and found.last_used_at is None
    assert await engine.personal_bearer_token(digest("pt_secret_other")) is None
    # An OAuth lookup does not find a personal token, and the reverse.
    assert await engine.oauth_bearer_token(digest(issued.secret)) is None


@pytest.mark.parametrize(
    ("revoked", "grant_revoked"),
    [(False, False), (True, False), (False, True)],
    ids=["a live token", "a revoked token", "a token of a revoked grant"],
)
async def test_an_oauth_token_is_found_with_its_grant_app_and_user(
    engine: Database, revoked: bool, grant_revoked: bool
) -> None:
    user = await add_user(engine, NOW)
    made = await add_oauth_token(
        engine, user, NOW, scopes="read write", revoked=revoked, grant_revoked=grant_revoked
    )
    statements = count_statements(engine)
    queries = count_queries(engine)
    found = await engine.oauth_bearer_token(digest(made.secret))
    assert queries == ["oauth"] and statements == ["SELECT"]
    assert found is not None
    assert (found.kind, found.id, found.grant_id, found.client_id) == (
        "oauth",
        made.token_id,
        made.grant_id,
        made.client_id,
    )
    assert found.user == user and found.scopes == ("read", "write")
    assert found.expires_at == NOW + timedelta(hours=2)
    assert found.revoked is (revoked or grant_revoked)
    assert await engine.personal_bearer_token(digest(made.secret)) is None


async def test_last_use_is_written_only_when_older_than_the_cutoff(engine: Database) -> None:
    user = await add_user(engine, NOW)
    issued = await add_personal_token(engine, user, NOW)
    made = await add_oauth_token(engine, user, NOW)
    tokens = engine

    async def last_used() -> tuple[datetime | None, datetime | None]:
        async with connect(engine) as connection:
            token = (
                await connection.execute(
                    select(personal_tokens.c.last_used_at).where(
                        personal_tokens.c.id == issued.token.id
                    )
                )
            ).scalar_one()
            grant = (
                await connection.execute(
                    select(grants.c.last_used_at).where(grants.c.id == made.grant_id)
                )
            ).scalar_one()
        return token, grant

    minute = timedelta(minutes=1)
    await tokens.record_personal_token_use(issued.token.id, NOW, unused_since=NOW - minute)
    await tokens.record_grant_use(made.grant_id, NOW, unused_since=NOW - minute)
    assert await last_used() == (NOW, NOW)
    # Another node racing with the same idea: its cutoff is before NOW, so nothing changes.
    later = NOW + timedelta(seconds=30)
    await tokens.record_personal_token_use(issued.token.id, later, unused_since=later - minute)
    await tokens.record_grant_use(made.grant_id, later, unused_since=later - minute)
    assert await last_used() == (NOW, NOW)
    later = NOW + minute
    await tokens.record_personal_token_use(issued.token.id, later, unused_since=later - minute)
    await tokens.record_grant_use(made.grant_id, later, unused_since=later - minute)
    assert await last_used() == (later, later)


async def test_the_lookup_waits_for_no_writer(engine: Database) -> None:
    """A writer holding its transaction open (on SQLite, the write lock) does not delay the
    Bearer read: it never asks for that lock."""
    user = await add_user(engine, NOW)
    issued = await add_personal_token(engine, user, NOW)
    with pytest.raises(RuntimeError):  # undone
        async with engine.unit_of_work() as store:
            await store.connection.execute(
                update(personal_tokens)
                .where(personal_tokens.c.id == issued.token.id)
                .values(name="renamed")
            )
            found = await asyncio.wait_for(
                engine.personal_bearer_token(digest(issued.secret)), timeout=2
            )
            raise RuntimeError
    assert found is not None and found.id == issued.token.id


async def test_an_in_memory_sqlite_database_is_refused() -> None:
    with pytest.raises(ValueError, match="database file"):
        open_database("sqlite:///:memory:")


# --- the PostgreSQL pool, as the Bearer check uses it ----------------------------------------


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
async def readers(database_url: str) -> AsyncIterator[PostgresDatabase]:
    if not database_url.startswith("postgres"):
        pytest.skip("the pool is PostgreSQL's")
    made = open_database(database_url, pool_size=1, timeout=0.5)  # two connections at most
    assert isinstance(made, PostgresDatabase)
    try:
        yield made
    finally:
        await made.close()


BACKEND = select(
    func.pg_backend_pid().label("pid"),
    func.pg_sleep(bindparam("wait", type_=Float)).label("slept"),
)
DIVIDE = select((literal_column("1") / bindparam("by", type_=Integer)).label("x"))


async def backend(readers: PostgresDatabase, wait: float = 0.0) -> int:
    (row,) = await readers.fetch(BACKEND, {"wait": wait})
    return int(row.pid)


async def test_readers_beyond_the_connections_wait_their_turn(readers: PostgresDatabase) -> None:
    pids = await asyncio.gather(*(backend(readers, 0.02) for _ in range(10)))
    assert len(set(pids)) == 2  # two connections served all ten, one statement at a time
    assert await backend(readers) in pids  # and were kept for the next reader


async def test_a_connection_that_failed_is_closed_and_its_place_given(
    readers: PostgresDatabase,
) -> None:
    first = await backend(readers)
    with pytest.raises(TimeoutError):
        # The request gives up in the middle of the statement: that connection is done.
        await asyncio.wait_for(backend(readers, 5), timeout=0.1)
    with pytest.raises(Unstorable):  # SQLSTATE 22012, a data exception
        await readers.fetch(DIVIDE, {"by": 0})
    # Both places were given back: two readers at once still get a connection each.
    pids = await asyncio.gather(backend(readers, 0.05), backend(readers, 0.05))
    assert len(set(pids)) == 2 and first not in pids


async def test_a_connection_closed_while_idle_is_replaced_unseen(
    readers: PostgresDatabase, database_url: str
) -> None:
    first = await backend(readers)
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the closed socket reaches the loop
    assert await backend(readers) not in (first, 0)


async def test_a_reader_that_waits_too_long_fails_as_unavailable(readers: PostgresDatabase) -> None:
    # Six statements of 0.2 s on two connections: the last ones end at 0.6 s.
    busy = [asyncio.create_task(backend(readers, 0.2)) for _ in range(6)]
    await asyncio.sleep(0.02)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await backend(readers)  # behind all six, so more than the 0.5 s it may wait
    assert 0.4 <= time.monotonic() - started < 1.5
    assert all(pid > 0 for pid in await asyncio.gather(*busy))  # the six were served
    assert await backend(readers) > 0  # and the connections came back


# --- Lookups: the Bearer reads of one turn of the loop share one statement -------------------


class CountingReaders:
    """Readers that answer from a dict, counting the statements they are sent."""

    def __init__(self, rows: dict[str, Row], error: Exception | None = None):
        self.rows, self.error, self.sent = rows, error, []

    async def fetch(self, statement: object, parameters: dict[str, list[str]]) -> list[Row]:
        digests = parameters["digests"]
        self.sent.append(list(digests))
        await asyncio.sleep(0.01)  # a round trip
        if self.error is not None:
            raise self.error
        return [self.rows[d] for d in digests if d in self.rows]


Row = namedtuple("Row", ["id", "digest"])


def row_of(digest: str) -> Row:
    return Row("id-" + digest, digest)


async def test_lookups_of_one_turn_share_one_statement_and_each_gets_its_row() -> None:
    readers = CountingReaders({d: row_of(d) for d in ("a", "b")})
    lookups = Lookups(readers, PERSONAL_ANY)  # type: ignore[arg-type]
    asked = ["a", "b", "a", "nobody"]
    rows = await asyncio.gather(*(lookups.row(d) for d in asked))
    assert rows == [row_of("a"), row_of("b"), row_of("a"), None]
    assert len(readers.sent) == 1 and sorted(readers.sent[0]) == ["a", "b", "nobody"]
    # A lookup after the batch left is a statement of its own: it sees what was
    # committed since (a revocation holds on the very next request).
    assert await lookups.row("b") == row_of("b")
    assert len(readers.sent) == 2


async def test_a_failed_lookup_fails_every_request_of_its_batch() -> None:
    readers = CountingReaders({}, error=ConnectionRefusedError("database gone"))
    lookups = Lookups(readers, PERSONAL_ANY)  # type: ignore[arg-type]
    outcomes = await asyncio.gather(lookups.row("a"), lookups.row("b"), return_exceptions=True)
    assert all(isinstance(o, ConnectionRefusedError) for o in outcomes)


async def test_concurrent_bearer_reads_on_postgresql_find_their_own_tokens(
    engine: Database,
) -> None:
    if engine.backend != "postgresql":
        pytest.skip("batched lookups are PostgreSQL's")
    user = await add_user(engine, NOW)
    issued = [await add_personal_token(engine, user, NOW, scopes=("read",)) for _ in range(5)]
    tokens = engine
    wanted = [digest(t.secret) for t in issued] + [digest("pt_secret_nothing")]
    found = await asyncio.gather(*(tokens.personal_bearer_token(w) for w in wanted))
    assert [f.id if f else None for f in found] == [t.token.id for t in issued] + [None]
