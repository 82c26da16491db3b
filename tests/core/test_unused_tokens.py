"""Personal access tokens unused for too long are revoked, and their owners told (on every
database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import unused_tokens
from paced.core.records import User
from paced.core.security_log import OPERATOR
from paced.storage.models import personal_tokens
from paced.storage.unit_of_work import unit_of_work
from tests.oauth_helpers import row, rows
from tests.token_rows import add_personal_token, add_user

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.fixture
async def ann(engine: AsyncEngine) -> User:
    return await add_user(engine, NOW - 3 * YEAR)


async def token(
    engine: AsyncEngine,
    ann: User,
    *,
    created: timedelta,
    used: timedelta | None = None,
    expires: timedelta | None = None,
) -> str:
    """A token created `created` ago, last used `used` ago; its id."""
    issued = await add_personal_token(
        engine, ann, NOW - created, expires_at=None if expires is None else NOW + expires
    )
    if used is not None:
        async with engine.begin() as connection:
            await connection.execute(
                update(personal_tokens)
                .where(personal_tokens.c.id == issued.token.id)
                .values(last_used_at=NOW - used)
            )
    return issued.token.id


async def revoke(engine: AsyncEngine, limit: int = 100) -> list[str]:
    async with unit_of_work(engine) as store:
        found = await unused_tokens.revoke_unused(store, NOW, NOW - YEAR, limit=limit)
    return [t.id for t in found]


async def test_tokens_unused_for_a_year_are_revoked_and_the_rest_kept(
    engine: AsyncEngine, ann: User
) -> None:
    never_used = await token(engine, ann, created=YEAR + timedelta(days=1))
    used_long_ago = await token(engine, ann, created=2 * YEAR, used=YEAR + timedelta(hours=1))
    used_lately = await token(engine, ann, created=2 * YEAR, used=timedelta(days=10))
    new = await token(engine, ann, created=timedelta(days=300))
    expired = await token(
        engine, ann, created=2 * YEAR, expires=timedelta(days=1)
    )  # still live: expires tomorrow
    assert sorted(await revoke(engine)) == sorted([never_used, used_long_ago, expired])
    for kept in (used_lately, new):
        assert (await row(engine, "personal_tokens", id=kept))["revoked_at"] is None
    assert (await row(engine, "personal_tokens", id=never_used))["revoked_at"] == NOW
    assert await revoke(engine) == []  # revoked once


async def test_expired_and_revoked_tokens_are_left_alone(engine: AsyncEngine, ann: User) -> None:
    expired = await token(engine, ann, created=2 * YEAR, expires=-timedelta(days=1))
    assert await revoke(engine) == []
    assert (await row(engine, "personal_tokens", id=expired))["revoked_at"] is None


async def test_the_owner_is_told_in_the_security_log_and_by_mail(
    engine: AsyncEngine, ann: User
) -> None:
    revoked = await token(engine, ann, created=2 * YEAR, used=YEAR + timedelta(days=3))
    await revoke(engine)
    events = [
        e
        for e in await rows(engine, "security_events", user_id=ann.id)
        if e["event"] == "personal_token_unused_revoked"
    ]
    assert len(events) == 1
    assert events[0]["actor"] == OPERATOR
    detail = json.loads(str(events[0]["detail"]))
    assert detail["token_id"] == revoked
    assert detail["name"] == "test"
    assert detail["last_used_at"].startswith(str((NOW - YEAR - timedelta(days=3)).date()))
    [mail] = [
        m
        for m in await rows(engine, "mail_queue", user_id=ann.id)
        if m["kind"] == "token_unused_revoked"
    ]
    assert json.loads(str(mail["detail"]))["token_id"] == revoked


async def test_a_token_used_meanwhile_is_kept(engine: AsyncEngine, ann: User) -> None:
    stale = await token(engine, ann, created=2 * YEAR)
    async with unit_of_work(engine) as store:
        (found,) = await store.unused_personal_tokens(NOW - YEAR, NOW, limit=10)
    assert found.id == stale
    # Used between the read and the write: the write's own condition keeps it.
    async with engine.begin() as connection:
        await connection.execute(
            update(personal_tokens).where(personal_tokens.c.id == stale).values(last_used_at=NOW)
        )
    async with unit_of_work(engine) as store:
        assert not await store.revoke_unused_personal_token(stale, NOW, unused_since=NOW - YEAR)
    assert (await row(engine, "personal_tokens", id=stale))["revoked_at"] is None


async def test_a_batch_holds_at_most_the_limit(engine: AsyncEngine, ann: User) -> None:
    for _ in range(3):
        await token(engine, ann, created=2 * YEAR)
    assert len(await revoke(engine, limit=2)) == 2
    assert len(await revoke(engine, limit=2)) == 1
