"""Personal access tokens unused for too long are revoked, and their owners told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import unused_tokens
from paced.core.records import User
from paced.core.security_log import OPERATOR
from tests.core.helpers import add_account, add_personal_token
from tests.fakes import MemoryStore, unit_of_work

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.fixture
async def ann(memory: MemoryStore) -> User:
    return await add_account(memory, NOW - 3 * YEAR)


async def token(
    memory: MemoryStore,
    ann: User,
    *,
    created: timedelta,
    used: timedelta | None = None,
    expires: timedelta | None = None,
) -> str:
    """A token created `created` ago, last used `used` ago; its id."""
    issued = await add_personal_token(
        memory, ann, NOW - created, expires_at=None if expires is None else NOW + expires
    )
    if used is not None:
        await memory.record_personal_token_use(issued.token.id, NOW - used, unused_since=NOW - used)
    return issued.token.id


async def revoke(memory: MemoryStore, limit: int = 100) -> list[str]:
    async with unit_of_work(memory) as store:
        found = await unused_tokens.revoke_unused(store, NOW, NOW - YEAR, limit=limit)
    return [t.id for t in found]


async def test_tokens_unused_for_a_year_are_revoked_and_the_rest_kept(
    memory: MemoryStore, ann: User
) -> None:
    never_used = await token(memory, ann, created=YEAR + timedelta(days=1))
    used_long_ago = await token(memory, ann, created=2 * YEAR, used=YEAR + timedelta(hours=1))
    used_lately = await token(memory, ann, created=2 * YEAR, used=timedelta(days=10))
    new = await token(memory, ann, created=timedelta(days=300))
    expired = await token(
        memory, ann, created=2 * YEAR, expires=timedelta(days=1)
    )  # still live: expires tomorrow
    assert sorted(await revoke(memory)) == sorted([never_used, used_long_ago, expired])
    for kept in (used_lately, new):
        assert memory.row("personal_tokens", id=kept)["revoked_at"] is None
    assert memory.row("personal_tokens", id=never_used)["revoked_at"] == NOW
    assert await revoke(memory) == []  # revoked once


async def test_expired_and_revoked_tokens_are_left_alone(memory: MemoryStore, ann: User) -> None:
    expired = await token(memory, ann, created=2 * YEAR, expires=-timedelta(days=1))
    assert await revoke(memory) == []
    assert memory.row("personal_tokens", id=expired)["revoked_at"] is None


async def test_the_owner_is_told_in_the_security_log_and_by_mail(
    memory: MemoryStore, ann: User
) -> None:
    revoked = await token(memory, ann, created=2 * YEAR, used=YEAR + timedelta(days=3))
    await revoke(memory)
    events = [
        e
        for e in memory.rows("security_events", user_id=ann.id)
        if e["event"] == "personal_token_unused_revoked"
    ]
    assert len(events) == 1
    assert events[0]["actor"] == OPERATOR
    detail = json.loads(str(events[0]["detail"]))
    assert detail["token_id"] == revoked
    assert detail["name"] == "test"
    assert detail["last_used_at"].startswith(str((NOW - YEAR - timedelta(days=3)).date()))
    [mail] = [
        m for m in memory.rows("mail_queue", user_id=ann.id) if m["kind"] == "token_unused_revoked"
    ]
    assert json.loads(str(mail["detail"]))["token_id"] == revoked


async def test_a_batch_holds_at_most_the_limit(memory: MemoryStore, ann: User) -> None:
    for _ in range(3):
        await token(memory, ann, created=2 * YEAR)
    assert len(await revoke(memory, limit=2)) == 2
    assert len(await revoke(memory, limit=2)) == 1
