"""Account rules over an in-memory UserStore."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from paced.core import accounts, passwords
from paced.core.errors import Conflict, Invalid
from paced.core.records import Credentials, User
from tests.helpers import ORIGIN, MemoryLog

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CHEAP = passwords.Hashing(time_cost=1, memory_kib=1024, parallelism=1)
OTHER = passwords.Hashing(time_cost=2, memory_kib=2048, parallelism=1)


class MemoryUsers(MemoryLog):
    def __init__(self) -> None:
        self.rows: dict[str, Credentials] = {}

    async def add_user(self, *, user: User, email_key: str, password_hash: str) -> bool:
        if email_key in self.rows:
            return False
        self.rows[email_key] = Credentials(user, password_hash)
        return True

    async def credentials_by_email(self, email_key: str) -> Credentials | None:
        return self.rows.get(email_key)

    async def user_by_id(self, user_id: str) -> User | None:
        return next((c.user for c in self.rows.values() if c.user.id == user_id), None)

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None:
        for key, credentials in self.rows.items():
            if credentials.user.id == user_id:
                self.rows[key] = replace(credentials, password_hash=password_hash)

    async def update_profile(
        self, user_id: str, *, name: str, time_zone: str, now: datetime
    ) -> None:
        raise NotImplementedError


async def sign_up(
    store: MemoryUsers, email: str, password: str, hashing: passwords.Hashing = CHEAP, **more: str
) -> User:
    account = await accounts.new_account(accounts.SignUp(email, password, **more), hashing)
    return await accounts.sign_up(store, account, NOW, origin=ORIGIN)


async def log_in(
    store: MemoryUsers, email: str, password: str, hashing: passwords.Hashing = CHEAP
) -> User | None:
    credentials = await accounts.find_credentials(store, email)
    check = await accounts.check_password(credentials, email, password, hashing)
    return await accounts.log_in(store, check, NOW, origin=ORIGIN)


async def test_sign_up_keeps_only_a_hash_and_the_email_as_typed() -> None:
    store = MemoryUsers()
    user = await sign_up(store, " Ann@Example.com ", "correct horse", name="Ann")
    assert user.email == "Ann@Example.com"
    assert user.id.startswith("user_") and user.time_zone == "UTC"
    stored = store.rows["ann@example.com"]
    assert (
        stored.password_hash.startswith("$argon2id$")
        and "correct horse" not in stored.password_hash
    )


async def test_sign_up_reports_every_bad_field_at_once() -> None:
    with pytest.raises(Invalid) as caught:
        await accounts.new_account(
            accounts.SignUp(email="nope", password="short", name="x" * 101), CHEAP
        )
    assert set(caught.value.fields) == {"email", "password", "name"}


async def test_the_same_email_in_another_case_is_a_conflict() -> None:
    store = MemoryUsers()
    await sign_up(store, "a@example.com", "x" * 8)
    with pytest.raises(Conflict):
        await sign_up(store, "A@EXAMPLE.com", "y" * 8)


async def test_login_rehashes_when_the_parameters_change() -> None:
    store = MemoryUsers()
    await sign_up(store, "a@example.com", "x" * 8)
    before = store.rows["a@example.com"].password_hash
    assert await log_in(store, "a@example.com", "x" * 8) is not None
    assert store.rows["a@example.com"].password_hash == before  # same parameters: left alone
    assert await log_in(store, "a@example.com", "x" * 8, OTHER) is not None
    after = store.rows["a@example.com"].password_hash
    assert after != before and "t=2" in after
    assert await passwords.hasher(OTHER).verify(after, "x" * 8)


@pytest.mark.parametrize(
    ("email", "password"),
    [("a@example.com", "wrong password"), ("nobody@example.com", "x" * 8)],
    ids=["a wrong password", "an unknown email"],
)
async def test_a_failed_login_is_none_whatever_failed(email: str, password: str) -> None:
    store = MemoryUsers()
    await sign_up(store, "a@example.com", "x" * 8)
    assert await log_in(store, email, password) is None


async def test_a_password_changed_after_it_was_checked_no_longer_signs_in() -> None:
    # The check runs before the sign-in's transaction; a change in between wins.
    store = MemoryUsers()
    user = await sign_up(store, "a@example.com", "x" * 8)
    credentials = await accounts.find_credentials(store, "a@example.com")
    check = await accounts.check_password(credentials, "a@example.com", "x" * 8, CHEAP)
    change = await accounts.check_password_change(credentials, user, "x" * 8, "y" * 8, CHEAP)
    await accounts.change_password(store, user, change, NOW, origin=ORIGIN)
    assert check.ok and await accounts.log_in(store, check, NOW, origin=ORIGIN) is None
    assert store.event_names()[-1] == "sign_in_failed"
    # Nor does a second change made from the same check of the old password.
    with pytest.raises(Invalid) as caught:
        await accounts.change_password(store, user, change, NOW, origin=ORIGIN)
    assert "current_password" in caught.value.fields
    assert await log_in(store, "a@example.com", "y" * 8) is not None


async def test_a_password_change_needs_the_current_password_and_follows_the_rules() -> None:
    store = MemoryUsers()
    user = await sign_up(store, "a@example.com", "x" * 8)
    credentials = await accounts.find_credentials(store, "a@example.com")
    for current, new, field in (
        ("wrong!!!", "y" * 8, "current_password"),
        ("x" * 8, "y", "new_password"),
    ):
        with pytest.raises(Invalid) as caught:
            await accounts.check_password_change(credentials, user, current, new, CHEAP)
        assert field in caught.value.fields


def test_time_zones_are_iana_names() -> None:
    assert accounts.check_time_zone("Europe/Paris") == "Europe/Paris"
    assert accounts.check_time_zone("UTC") == "UTC"
    with pytest.raises(Invalid):
        accounts.check_time_zone("Mars/Olympus")
