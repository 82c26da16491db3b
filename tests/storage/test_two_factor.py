"""`paced.storage.two_factor` on every database: a code, a recovery code and a passkey
challenge brought by many requests at the same moment are each accepted by one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from paced.core import passkeys, two_factor
from paced.core.policy import Policy
from paced.core.records import User
from paced.core.totp import SecretBox
from paced.storage.database import Database, open_database
from tests.helpers import ORIGIN
from tests.token_rows import add_user

NOW = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
POLICY = Policy()
BOX = SecretBox("test-secret-key-for-paced-tests-only")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def ann(database: Database) -> User:
    return await add_user(database, NOW)


async def set_up(database: Database, user: User) -> tuple[str, list[str]]:
    """(the authenticator's secret, the recovery codes) of two-factor turned on."""
    async with database.unit_of_work() as store:
        await two_factor.start_authenticator(store, BOX, user)
        shown = await two_factor.authenticator_set_up(store, BOX, user)
    assert shown is not None
    async with database.unit_of_work() as store:
        codes = await two_factor.confirm_authenticator(
            store, BOX, user, pyotp.TOTP(shown.secret).at(NOW), NOW, origin=ORIGIN, policy=POLICY
        )
    assert codes is not None
    return shown.secret, codes


async def second_step(database: Database, user: User, code: str, now: datetime) -> str:
    async with database.unit_of_work() as store:
        passed = await two_factor.second_step(
            store, BOX, user.id, code, now, origin=ORIGIN, policy=POLICY
        )
    assert passed is not None and passed.user == user
    return passed.method


async def test_a_code_brought_by_many_requests_at_once_signs_in_one(
    database: Database, ann: User
) -> None:
    secret, _ = await set_up(database, ann)
    later = NOW + timedelta(seconds=30)
    code = pyotp.TOTP(secret).at(later)
    results = await asyncio.gather(
        *(second_step(database, ann, code, later) for _ in range(8)), return_exceptions=True
    )
    assert results.count("authenticator app") == 1, results
    assert sum(isinstance(r, two_factor.WrongCode) for r in results) == 7


async def test_a_recovery_code_brought_by_many_requests_at_once_signs_in_one(
    database: Database, ann: User
) -> None:
    _, codes = await set_up(database, ann)
    results = await asyncio.gather(
        *(second_step(database, ann, codes[0], NOW) for _ in range(8)), return_exceptions=True
    )
    assert results.count("recovery code") == 1, results
    async with database.reading() as store:
        assert await store.recovery_codes_left(ann.id) == 9


async def test_a_challenge_answered_by_many_requests_at_once_is_taken_once(
    database: Database, ann: User
) -> None:
    async with database.unit_of_work() as store:
        await passkeys.start(store, "session:x", "register", NOW, POLICY, user_id=ann.id)
        challenge = await store.live_challenge(passkeys.digest("session:x"), "register", NOW)
    assert challenge is not None

    async def take() -> bool:
        async with database.unit_of_work() as store:
            return await store.take_challenge(
                challenge[0], passkeys.digest("session:x"), "register", NOW
            )

    assert sorted(await asyncio.gather(*(take() for _ in range(8)))) == [False] * 7 + [True]
