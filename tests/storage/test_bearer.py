"""BearerTokens: one indexed read by digest that takes no write lock, and conditional
last-use writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.ids import digest
from paced.storage.bearer import OAUTH, PERSONAL, BearerTokens
from paced.storage.engine import create_engine, dispose
from paced.storage.models import grants, personal_tokens
from tests.helpers import listen_statements
from tests.token_rows import add_oauth_token, add_personal_token, add_user

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


_OPEN: dict[AsyncEngine, BearerTokens] = {}


def tokens_for(engine: AsyncEngine) -> BearerTokens:
    """The test's BearerTokens (one per engine, as in a server), closed with the engine."""
    return _OPEN.setdefault(engine, BearerTokens(engine, timeout=5))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, timeout=5)
    try:
        yield engine
    finally:
        if engine in _OPEN:
            await _OPEN.pop(engine).aclose()
        await dispose(engine)


def count_statements(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    def _record(_c: object, _cur: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    listen_statements(engine, _record)
    return statements


def count_queries(tokens: BearerTokens) -> list[str]:
    """The statements the Bearer store sends through its own driver connection."""
    queries: list[str] = []
    send = tokens._row

    async def spy(sql: str, digest: str) -> object:
        queries.append(sql)
        return await send(sql, digest)

    tokens._row = spy  # type: ignore[method-assign]
    return queries


async def test_a_personal_token_is_found_by_its_digest_with_its_user(engine: AsyncEngine) -> None:
    user = await add_user(engine, NOW)
    issued = await add_personal_token(
        engine, user, NOW, scopes=("write",), expires_at=NOW + timedelta(days=1)
    )
    statements = count_statements(engine)
    queries = count_queries(tokens_for(engine))
    found = await tokens_for(engine).personal_bearer_token(digest(issued.secret))
    assert found is not None
    assert queries == [PERSONAL] and statements == []  # one read, and nothing else
    assert (found.kind, found.id, found.user, found.scopes) == (
        "personal",
        issued.token.id,
        user,
        ("write",),
    )
    assert found.expires_at == NOW + timedelta(days=1)
    assert not found.revoked and found.last_used_at is None
    assert await tokens_for(engine).personal_bearer_token(digest("pt_secret_other")) is None
    # An OAuth lookup does not find a personal token, and the reverse.
    assert await tokens_for(engine).oauth_bearer_token(digest(issued.secret)) is None


@pytest.mark.parametrize(
    ("revoked", "grant_revoked"),
    [(False, False), (True, False), (False, True)],
    ids=["a live token", "a revoked token", "a token of a revoked grant"],
)
async def test_an_oauth_token_is_found_with_its_grant_app_and_user(
    engine: AsyncEngine, revoked: bool, grant_revoked: bool
) -> None:
    user = await add_user(engine, NOW)
    made = await add_oauth_token(
        engine, user, NOW, scopes="read write", revoked=revoked, grant_revoked=grant_revoked
    )
    statements = count_statements(engine)
    queries = count_queries(tokens_for(engine))
    found = await tokens_for(engine).oauth_bearer_token(digest(made.secret))
    assert queries == [OAUTH] and statements == []
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
    assert await tokens_for(engine).personal_bearer_token(digest(made.secret)) is None


async def test_last_use_is_written_only_when_older_than_the_cutoff(engine: AsyncEngine) -> None:
    user = await add_user(engine, NOW)
    issued = await add_personal_token(engine, user, NOW)
    made = await add_oauth_token(engine, user, NOW)
    tokens = tokens_for(engine)

    async def last_used() -> tuple[datetime | None, datetime | None]:
        async with engine.connect() as connection:
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


async def test_the_lookup_waits_for_no_writer(engine: AsyncEngine) -> None:
    """A writer holding its transaction open (on SQLite, the write lock) does not delay the
    Bearer read: it never asks for that lock."""
    user = await add_user(engine, NOW)
    issued = await add_personal_token(engine, user, NOW)
    async with engine.connect() as writer:
        await writer.begin()
        await writer.execute(
            update(personal_tokens)
            .where(personal_tokens.c.id == issued.token.id)
            .values(name="renamed")
        )
        found = await asyncio.wait_for(
            tokens_for(engine).personal_bearer_token(digest(issued.secret)), timeout=2
        )
        await writer.rollback()
    assert found is not None and found.id == issued.token.id


async def test_an_in_memory_sqlite_database_is_refused() -> None:
    engine = create_engine("sqlite:///:memory:")
    try:
        with pytest.raises(ValueError, match="database file"):
            BearerTokens(engine)
    finally:
        await dispose(engine)
