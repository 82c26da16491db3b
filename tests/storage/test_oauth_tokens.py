"""OAuthTokenRows on every database: lookups, and the conditional updates that make codes
and refresh tokens single-use under concurrent transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from paced.core import token_format
from paced.core.errors import InvalidGrant
from paced.core.ids import digest
from paced.core.records import Grant, NewToken
from paced.storage.database import Database, open_database
from tests.oauth_helpers import NOW, Code, add_client, add_code, add_user, row

LATER = NOW + timedelta(minutes=1)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
async def code(engine: Database) -> Code:
    ann = await add_user(engine)
    return await add_code(engine, await add_client(engine, ann), ann, scopes="read write")


async def add_refresh_token(engine: Database, grant_id: str) -> tuple[str, str]:
    """(token id, token) of a new refresh token under the grant."""
    token = token_format.generate("pt_refresh_")
    async with engine.unit_of_work() as store:
        await store.add_tokens(
            grant_id,
            NOW,
            access=NewToken("at_0", digest("pt_oauth_unused"), ("read",), NOW),
            refresh=NewToken("rt_1", digest(token), ("read", "write"), None),
        )
    return "rt_1", token


async def test_a_code_is_read_with_its_grant(engine: Database, code: Code) -> None:
    async with engine.unit_of_work() as store:
        found = await store.code_by_digest(digest(code.code))
        assert await store.code_by_digest(digest("unknown")) is None
    assert found is not None
    assert found.redirect_uri == "https://client.example/callback"
    assert found.expires_at == NOW + timedelta(minutes=10)
    assert found.used_at is None
    assert isinstance(found.grant, Grant)
    assert (found.grant.id, found.grant.scopes, found.grant.created_at) == (
        code.grant_id,
        ("read", "write"),
        NOW,
    )


async def test_a_code_is_consumed_once(engine: Database, code: Code) -> None:
    async with engine.unit_of_work() as store:
        assert await store.consume_code(digest(code.code), NOW) is True
        assert await store.consume_code(digest(code.code), LATER) is False
        assert await store.consume_code(digest("unknown"), LATER) is False
    assert (await row(engine, "authorization_codes", digest=digest(code.code)))["used_at"] == NOW


async def consume_in_own_transaction(engine: Database, code: Code) -> bool:
    async with engine.unit_of_work() as store:
        return await store.consume_code(digest(code.code), NOW)


async def test_sixteen_concurrent_transactions_consume_a_code_once(
    engine: Database, code: Code
) -> None:
    results = await asyncio.gather(*(consume_in_own_transaction(engine, code) for _ in range(16)))
    assert results.count(True) == 1 and results.count(False) == 15


async def test_a_refresh_token_is_rotated_once(engine: Database, code: Code) -> None:
    token_id, token = await add_refresh_token(engine, code.grant_id)
    async with engine.unit_of_work() as store:
        found = await store.refresh_token_by_digest(digest(token))
        assert found is not None and found.rotated_at is None
        assert (found.id, found.scopes, found.grant.id) == (
            token_id,
            ("read", "write"),
            code.grant_id,
        )
        assert await store.rotate_refresh_token(token_id, NOW) is True
        assert await store.rotate_refresh_token(token_id, LATER) is False
        found = await store.refresh_token_by_digest(digest(token))
    assert found is not None and found.rotated_at == NOW


async def test_a_revoked_refresh_token_is_not_rotated(engine: Database, code: Code) -> None:
    token_id, _ = await add_refresh_token(engine, code.grant_id)
    async with engine.unit_of_work() as store:
        await store.revoke_grant(code.grant_id, NOW)
        assert await store.rotate_refresh_token(token_id, LATER) is False


async def rotate_in_own_transaction(engine: Database, token_id: str) -> bool:
    async with engine.unit_of_work() as store:
        return await store.rotate_refresh_token(token_id, NOW)


async def test_sixteen_concurrent_transactions_rotate_a_refresh_token_once(
    engine: Database, code: Code
) -> None:
    token_id, _ = await add_refresh_token(engine, code.grant_id)
    results = await asyncio.gather(
        *(rotate_in_own_transaction(engine, token_id) for _ in range(16))
    )
    assert results.count(True) == 1 and results.count(False) == 15


async def test_a_token_pair_is_stored_in_full(engine: Database, code: Code) -> None:
    # On PostgreSQL in one statement (paced.storage.oauth_tokens.ADD_TOKENS).
    async with engine.unit_of_work() as store:
        await store.add_tokens(
            code.grant_id,
            NOW,
            access=NewToken("at_1", digest("a"), ("read", "write"), NOW + timedelta(hours=2)),
            refresh=NewToken("rt_1", digest("r"), ("read",), NOW + timedelta(days=30)),
        )
    access = await row(engine, "access_tokens", id="at_1")
    refresh = await row(engine, "refresh_tokens", id="rt_1")
    for stored, expected in (
        (access, (digest("a"), "read write", NOW + timedelta(hours=2))),
        (refresh, (digest("r"), "read", NOW + timedelta(days=30))),
    ):
        assert (stored["digest"], stored["scopes"], stored["expires_at"]) == expected
        assert (stored["grant_id"], stored["created_at"]) == (code.grant_id, NOW)
    assert refresh["rotated_at"] is None and access["revoked_at"] is None


async def test_an_access_token_is_stored_read_and_revoked_once(
    engine: Database, code: Code
) -> None:
    token = token_format.generate("pt_oauth_")
    async with engine.unit_of_work() as store:
        await store.touch_grant(code.grant_id, NOW)
        await store.add_tokens(
            code.grant_id,
            NOW,
            access=NewToken("at_1", digest(token), ("read",), NOW + timedelta(hours=2)),
            refresh=NewToken("rt_1", digest("pt_refresh_unused"), ("read",), None),
        )
    async with engine.unit_of_work() as store:
        found = await store.access_token_by_digest(digest(token))
        assert found is not None
        assert (found.id, found.scopes, found.expires_at) == (
            "at_1",
            ("read",),
            NOW + timedelta(hours=2),
        )
        assert found.grant.last_used_at == NOW
        assert await store.access_token_by_digest(digest("unknown")) is None
        await store.revoke_access_token("at_1", NOW)
        await store.revoke_access_token("at_1", LATER)  # the first revocation time stays
    assert (await row(engine, "access_tokens", id="at_1"))["revoked_at"] == NOW


async def test_a_revocation_commits_although_the_use_case_fails(
    engine: Database, code: Code
) -> None:
    with pytest.raises(InvalidGrant):
        async with engine.unit_of_work() as store:
            await store.revoke_grant(code.grant_id, NOW)
            raise InvalidGrant("replayed")
    assert (await row(engine, "grants", id=code.grant_id))["revoked_at"] == NOW


async def test_an_unexpected_error_rolls_back(engine: Database, code: Code) -> None:
    with pytest.raises(RuntimeError):
        async with engine.unit_of_work() as store:
            await store.consume_code(digest(code.code), NOW)
            raise RuntimeError("bug")
    assert (await row(engine, "authorization_codes", digest=digest(code.code)))["used_at"] is None
