"""Two-factor rules on every database, with the time injected: each code and challenge
is accepted once even when many requests bring it at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import passkeys, passwords, two_factor
from paced.core.accounts import check_password
from paced.core.errors import Invalid
from paced.core.policy import Policy
from paced.core.records import Credentials, User
from paced.core.totp import SecretBox
from paced.storage.unit_of_work import reading, unit_of_work
from tests.helpers import ORIGIN
from tests.token_rows import add_user

NOW = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
POLICY = Policy()
BOX = SecretBox("test-secret-key-for-paced-tests-only")
CHEAP = passwords.Hashing(time_cost=1, memory_kib=1024, parallelism=1)


@pytest.fixture
async def ann(engine: AsyncEngine) -> User:
    return await add_user(engine, NOW)


async def set_up(engine: AsyncEngine, user: User) -> tuple[str, list[str]]:
    async with unit_of_work(engine) as store:
        await two_factor.start_authenticator(store, BOX, user)
        shown = await two_factor.authenticator_set_up(store, BOX, user)
    assert shown is not None
    async with unit_of_work(engine) as store:
        codes = await two_factor.confirm_authenticator(
            store, BOX, user, pyotp.TOTP(shown.secret).at(NOW), NOW, origin=ORIGIN, policy=POLICY
        )
    assert codes is not None
    return shown.secret, codes


async def second_step(engine: AsyncEngine, user: User, code: str, now: datetime) -> str:
    async with unit_of_work(engine) as store:
        return await two_factor.second_step(
            store, BOX, user, code, now, origin=ORIGIN, policy=POLICY
        )


async def test_the_secret_is_stored_encrypted(engine: AsyncEngine, ann: User) -> None:
    secret, _ = await set_up(engine, ann)
    async with reading(engine) as store:
        stored = await store.totp_of(ann.id)
    assert stored is not None and stored.secret is not None
    assert secret not in stored.secret and BOX.open(ann.id, stored.secret) == secret
    assert stored.pending_secret is None and stored.enabled_at == NOW


async def test_a_code_brought_by_many_requests_at_once_signs_in_one(
    engine: AsyncEngine, ann: User
) -> None:
    secret, _ = await set_up(engine, ann)
    later = NOW + timedelta(seconds=30)
    code = pyotp.TOTP(secret).at(later)
    results = await asyncio.gather(
        *(second_step(engine, ann, code, later) for _ in range(8)), return_exceptions=True
    )
    assert results.count("authenticator app") == 1, results
    assert sum(isinstance(r, two_factor.WrongCode) for r in results) == 7


async def test_a_code_of_an_earlier_step_than_one_used_is_refused(
    engine: AsyncEngine, ann: User
) -> None:
    secret, _ = await set_up(engine, ann)
    later = NOW + timedelta(seconds=60)
    totp = pyotp.TOTP(secret)
    assert await second_step(engine, ann, totp.at(later), later) == "authenticator app"
    with pytest.raises(two_factor.WrongCode):
        await second_step(engine, ann, totp.at(later, counter_offset=-1), later)


async def test_a_recovery_code_brought_by_many_requests_at_once_signs_in_one(
    engine: AsyncEngine, ann: User
) -> None:
    _, codes = await set_up(engine, ann)
    results = await asyncio.gather(
        *(second_step(engine, ann, codes[0], NOW) for _ in range(8)), return_exceptions=True
    )
    assert results.count("recovery code") == 1, results
    async with reading(engine) as store:
        assert await store.recovery_codes_left(ann.id) == 9


async def test_a_code_of_another_account_is_no_code_here(engine: AsyncEngine, ann: User) -> None:
    bob = await add_user(engine, NOW, "bob@example.com")
    _, codes = await set_up(engine, ann)
    await set_up(engine, bob)
    with pytest.raises(two_factor.WrongCode):
        await second_step(engine, bob, codes[0], NOW)


async def test_confirming_needs_a_set_up_in_progress(engine: AsyncEngine, ann: User) -> None:
    async with unit_of_work(engine) as store:
        with pytest.raises(Invalid, match="Start again"):
            await two_factor.confirm_authenticator(
                store, BOX, ann, "123456", NOW, origin=ORIGIN, policy=POLICY
            )


async def test_moving_to_another_app_keeps_the_old_one_until_the_new_one_is_confirmed(
    engine: AsyncEngine, ann: User
) -> None:
    old, codes = await set_up(engine, ann)
    async with unit_of_work(engine) as store:
        await two_factor.start_authenticator(store, BOX, ann)
        shown = await two_factor.authenticator_set_up(store, BOX, ann)
    assert shown is not None and shown.secret != old
    later = NOW + timedelta(seconds=30)
    assert await second_step(engine, ann, pyotp.TOTP(old).at(later), later) == "authenticator app"
    even_later = later + timedelta(seconds=30)
    async with unit_of_work(engine) as store:
        again = await two_factor.confirm_authenticator(
            store,
            BOX,
            ann,
            pyotp.TOTP(shown.secret).at(even_later),
            even_later,
            origin=ORIGIN,
            policy=POLICY,
        )
    assert again is None  # it was on already: the recovery codes stay
    last = even_later + timedelta(seconds=30)
    with pytest.raises(two_factor.WrongCode):
        await second_step(engine, ann, pyotp.TOTP(old).at(last), last)
    assert await second_step(engine, ann, codes[1], last) == "recovery code"


async def test_turning_off_needs_the_right_password_and_removes_everything(
    engine: AsyncEngine, ann: User
) -> None:
    await set_up(engine, ann)
    credentials = Credentials(ann, await passwords.hasher(CHEAP).hash("right password"))
    wrong = await check_password(credentials, ann.email, "wrong password", CHEAP)
    async with unit_of_work(engine) as store:
        with pytest.raises(two_factor.WrongPassword):
            await two_factor.turn_off(store, ann, wrong, NOW, origin=ORIGIN)
        assert await two_factor.is_enabled(store, ann.id)
    right = await check_password(credentials, ann.email, "right password", CHEAP)
    async with unit_of_work(engine) as store:
        await two_factor.turn_off(store, ann, right, NOW, origin=ORIGIN)
        status = await two_factor.status_of(store, ann.id)
        events = [e.event for e in await store.security_events_of(ann.id, limit=20)]
    assert not status.enabled and status.recovery_codes_left == 0
    assert events[:2] == ["two_factor_disabled", "two_factor_disable_failed"]


async def test_a_challenge_answered_by_many_requests_at_once_is_taken_once(
    engine: AsyncEngine, ann: User
) -> None:
    async with unit_of_work(engine) as store:
        await passkeys.start(store, "session:x", "register", NOW, POLICY, user_id=ann.id)
        challenge = await store.live_challenge(passkeys.digest("session:x"), "register", NOW)
    assert challenge is not None

    async def take() -> bool:
        async with unit_of_work(engine) as store:
            return await store.take_challenge(
                challenge[0], passkeys.digest("session:x"), "register", NOW
            )

    assert sorted(await asyncio.gather(*(take() for _ in range(8)))) == [False] * 7 + [True]


async def test_a_challenge_expires(engine: AsyncEngine, ann: User) -> None:
    async with unit_of_work(engine) as store:
        await passkeys.start(store, "session:x", "register", NOW, POLICY, user_id=ann.id)
        late = NOW + POLICY.webauthn_challenge_ttl
        assert await store.live_challenge(passkeys.digest("session:x"), "register", late) is None
