"""`paced.storage.personal_tokens` on every database: the purge's revocation of a token
unused for long holds its condition in the write itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.storage.engine import create_engine, dispose
from paced.storage.models import personal_tokens
from paced.storage.unit_of_work import unit_of_work
from tests.oauth_helpers import row
from tests.token_rows import add_personal_token, add_user

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await dispose(engine)


async def test_a_token_used_between_the_read_and_the_revocation_is_kept(
    engine: AsyncEngine,
) -> None:
    ann = await add_user(engine, NOW - 3 * YEAR)
    stale = (await add_personal_token(engine, ann, NOW - 2 * YEAR)).token.id
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
