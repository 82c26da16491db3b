"""Two-factor rules, with the time injected: each code and challenge is accepted once
(the same requests racing on a real database: tests/storage/test_two_factor.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from paced.core import passkeys, passwords, two_factor
from paced.core.accounts import check_password
from paced.core.errors import Invalid
from paced.core.policy import Policy
from paced.core.records import Credentials, User
from paced.core.totp import SecretBox
from tests.core.helpers import add_account
from tests.fakes import MemoryStore, reading, unit_of_work
from tests.helpers import ORIGIN

NOW = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
POLICY = Policy()
BOX = SecretBox("test-secret-key-for-paced-tests-only")
CHEAP = passwords.Hashing(time_cost=1, memory_kib=1024, parallelism=1)


@pytest.fixture
async def ann(memory: MemoryStore) -> User:
    return await add_account(memory, NOW)


async def set_up(memory: MemoryStore, user: User) -> tuple[str, list[str]]:
    async with unit_of_work(memory) as store:
        await two_factor.start_authenticator(store, BOX, user)
        shown = await two_factor.authenticator_set_up(store, BOX, user)
    assert shown is not None
    async with unit_of_work(memory) as store:
        codes = await two_factor.confirm_authenticator(
            store, BOX, user, pyotp.TOTP(shown.secret).at(NOW), NOW, origin=ORIGIN, policy=POLICY
        )
    assert codes is not None
    return shown.secret, codes


async def second_step(memory: MemoryStore, user: User, code: str, now: datetime) -> str:
    async with unit_of_work(memory) as store:
        passed = await two_factor.second_step(
            store, BOX, user.id, code, now, origin=ORIGIN, policy=POLICY
        )
    assert passed is not None and passed.user == user
    return passed.method


async def test_the_secret_is_stored_encrypted(memory: MemoryStore, ann: User) -> None:
    secret, _ = await set_up(memory, ann)
    async with reading(memory) as store:
        stored = await store.totp_of(ann.id)
    assert stored is not None and stored.secret is not None
    assert secret not in stored.secret and BOX.open(ann.id, stored.secret) == secret
    assert stored.pending_secret is None and stored.enabled_at == NOW


async def test_a_code_of_an_earlier_step_than_one_used_is_refused(
    memory: MemoryStore, ann: User
) -> None:
    secret, _ = await set_up(memory, ann)
    later = NOW + timedelta(seconds=60)
    totp = pyotp.TOTP(secret)
    assert await second_step(memory, ann, totp.at(later), later) == "authenticator app"
    with pytest.raises(two_factor.WrongCode):
        await second_step(memory, ann, totp.at(later, counter_offset=-1), later)


@pytest.mark.parametrize(
    ("method", "recovery"),
    [("use_totp_step", False), ("use_recovery_code", True)],
    ids=["a code of the app", "a recovery code"],
)
async def test_a_code_that_loses_the_race_to_be_used_is_refused(
    memory: MemoryStore, ann: User, method: str, recovery: bool
) -> None:
    secret, codes = await set_up(memory, ann)
    later = NOW + timedelta(seconds=30)
    memory.lose_next(method)  # a concurrent request used it first
    with pytest.raises(two_factor.WrongCode):
        await second_step(
            memory, ann, codes[0] if recovery else pyotp.TOTP(secret).at(later), later
        )


async def test_a_code_of_another_account_is_no_code_here(memory: MemoryStore, ann: User) -> None:
    bob = await add_account(memory, NOW, "bob@example.com")
    _, codes = await set_up(memory, ann)
    await set_up(memory, bob)
    with pytest.raises(two_factor.WrongCode):
        await second_step(memory, bob, codes[0], NOW)


async def test_confirming_needs_a_set_up_in_progress(memory: MemoryStore, ann: User) -> None:
    async with unit_of_work(memory) as store:
        with pytest.raises(Invalid, match="Start again"):
            await two_factor.confirm_authenticator(
                store, BOX, ann, "123456", NOW, origin=ORIGIN, policy=POLICY
            )


async def test_moving_to_another_app_keeps_the_old_one_until_the_new_one_is_confirmed(
    memory: MemoryStore, ann: User
) -> None:
    old, codes = await set_up(memory, ann)
    async with unit_of_work(memory) as store:
        await two_factor.start_authenticator(store, BOX, ann)
        shown = await two_factor.authenticator_set_up(store, BOX, ann)
    assert shown is not None and shown.secret != old
    later = NOW + timedelta(seconds=30)
    assert await second_step(memory, ann, pyotp.TOTP(old).at(later), later) == "authenticator app"
    even_later = later + timedelta(seconds=30)
    async with unit_of_work(memory) as store:
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
        await second_step(memory, ann, pyotp.TOTP(old).at(last), last)
    assert await second_step(memory, ann, codes[1], last) == "recovery code"


async def test_turning_off_needs_the_right_password_and_removes_everything(
    memory: MemoryStore, ann: User
) -> None:
    await set_up(memory, ann)
    credentials = Credentials(ann, await passwords.hasher(CHEAP).hash("right password"))
    wrong = await check_password(credentials, ann.email, "wrong password", CHEAP)
    async with unit_of_work(memory) as store:
        with pytest.raises(two_factor.WrongPassword):
            await two_factor.turn_off(store, ann, wrong, NOW, origin=ORIGIN)
        assert await two_factor.is_enabled(store, ann.id)
    right = await check_password(credentials, ann.email, "right password", CHEAP)
    async with unit_of_work(memory) as store:
        await two_factor.turn_off(store, ann, right, NOW, origin=ORIGIN)
        status = await two_factor.status_of(store, ann.id)
        events = [e.event for e in await store.security_events_of(ann.id, limit=20)]
    assert not status.enabled and status.recovery_codes_left == 0
    assert events[:2] == ["two_factor_disabled", "two_factor_disable_failed"]


async def test_a_challenge_expires(memory: MemoryStore, ann: User) -> None:
    async with unit_of_work(memory) as store:
        await passkeys.start(store, "session:x", "register", NOW, POLICY, user_id=ann.id)
        late = NOW + POLICY.webauthn_challenge_ttl
        assert await store.live_challenge(passkeys.digest("session:x"), "register", late) is None


async def test_the_second_step_of_an_account_that_is_not_there_signs_in_nobody(
    memory: MemoryStore, ann: User
) -> None:
    secret, _ = await set_up(memory, ann)
    async with unit_of_work(memory) as store:
        passed = await two_factor.second_step(
            store, BOX, "usr_gone", pyotp.TOTP(secret).at(NOW), NOW, origin=ORIGIN, policy=POLICY
        )
    assert passed is None
