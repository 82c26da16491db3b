"""`paced.storage.personal_tokens` on every database: the purge's revocation of a token
unused for long holds its condition in the write itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from paced.storage.database import Database, open_database
from paced.storage.models import personal_tokens
from tests.helpers import begin
from tests.oauth_helpers import row
from tests.token_rows import add_personal_token, add_user

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


async def test_a_token_used_between_the_read_and_the_revocation_is_kept(
    database: Database,
) -> None:
    ann = await add_user(database, NOW - 3 * YEAR)
    stale = (await add_personal_token(database, ann, NOW - 2 * YEAR)).token.id
    async with database.unit_of_work() as store:
        (found,) = await store.unused_personal_tokens(NOW - YEAR, NOW, limit=10)
    assert found.id == stale
    # Used between the read and the write: the write's own condition keeps it.
    async with begin(database) as connection:
        await connection.execute(
            update(personal_tokens).where(personal_tokens.c.id == stale).values(last_used_at=NOW)
        )
    async with database.unit_of_work() as store:
        assert not await store.revoke_unused_personal_token(stale, NOW, unused_since=NOW - YEAR)
    assert (await row(database, "personal_tokens", id=stale))["revoked_at"] is None
