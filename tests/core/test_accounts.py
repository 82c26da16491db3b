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


async def test_sign_up_keeps_only_a_hash_and_the_email_as_typed() -> None:
    store = MemoryUsers()
    user = await accounts.sign_up(
        store,
        accounts.SignUp(email=" Ann@Example.com ", password="correct horse", name="Ann"),
        NOW,
        CHEAP,
        origin=ORIGIN,
    )
    assert user.email == "Ann@Example.com"
    assert user.id.startswith("user_") and user.time_zone == "UTC"
    stored = store.rows["ann@example.com"]
    assert (
        stored.password_hash.startswith("$argon2id$")
        and "correct horse" not in stored.password_hash
    )


async def test_sign_up_reports_every_bad_field_at_once() -> None:
    with pytest.raises(Invalid) as caught:
        await accounts.sign_up(
            MemoryUsers(),
            accounts.SignUp(email="nope", password="short", name="x" * 101),
            NOW,
            CHEAP,
            origin=ORIGIN,
        )
    assert set(caught.value.fields) == {"email", "password", "name"}


async def test_the_same_email_in_another_case_is_a_conflict() -> None:
    store = MemoryUsers()
    await accounts.sign_up(
        store,
        accounts.SignUp(email="a@example.com", password="x" * 8),
        NOW,
        CHEAP,
        origin=ORIGIN,
    )
    with pytest.raises(Conflict):
        await accounts.sign_up(
            store,
            accounts.SignUp(email="A@EXAMPLE.com", password="y" * 8),
            NOW,
            CHEAP,
            origin=ORIGIN,
        )


async def test_login_rehashes_when_the_parameters_change() -> None:
    store = MemoryUsers()
    await accounts.sign_up(
        store,
        accounts.SignUp(email="a@example.com", password="x" * 8),
        NOW,
        CHEAP,
        origin=ORIGIN,
    )
    before = store.rows["a@example.com"].password_hash
    assert (
        await accounts.log_in(store, "a@example.com", "x" * 8, NOW, CHEAP, origin=ORIGIN)
        is not None
    )
    assert store.rows["a@example.com"].password_hash == before  # same parameters: left alone
    assert (
        await accounts.log_in(store, "a@example.com", "x" * 8, NOW, OTHER, origin=ORIGIN)
        is not None
    )
    after = store.rows["a@example.com"].password_hash
    assert after != before and "t=2" in after
    assert passwords.hasher(OTHER).verify(after, "x" * 8)


@pytest.mark.parametrize(
    ("email", "password"),
    [("a@example.com", "wrong password"), ("nobody@example.com", "x" * 8)],
    ids=["a wrong password", "an unknown email"],
)
async def test_a_failed_login_is_none_whatever_failed(email: str, password: str) -> None:
    store = MemoryUsers()
    await accounts.sign_up(
        store,
        accounts.SignUp(email="a@example.com", password="x" * 8),
        NOW,
        CHEAP,
        origin=ORIGIN,
    )
    assert await accounts.log_in(store, email, password, NOW, CHEAP, origin=ORIGIN) is None


def test_time_zones_are_iana_names() -> None:
    assert accounts.check_time_zone("Europe/Paris") == "Europe/Paris"
    assert accounts.check_time_zone("UTC") == "UTC"
    with pytest.raises(Invalid):
        accounts.check_time_zone("Mars/Olympus")
