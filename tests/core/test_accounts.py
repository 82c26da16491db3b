"""Account rules over an in-memory UserStore."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from paced.core import accounts, passwords
from paced.core.errors import Conflict, Invalid
from paced.core.ids import digest
from paced.core.records import Credentials, User
from tests.helpers import ORIGIN, MemoryLog, MemoryMail

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CHEAP = passwords.Hashing(time_cost=1, memory_kib=1024, parallelism=1)
OTHER = passwords.Hashing(time_cost=2, memory_kib=2048, parallelism=1)


class MemoryUsers(MemoryLog, MemoryMail):
    def __init__(self) -> None:
        self.rows: dict[str, Credentials] = {}
        # Sessions: digest -> user id.
        self.sessions: dict[str, str] = {}

    async def delete_user_sessions(self, user_id: str, *, keep_digest: str | None = None) -> None:
        self.sessions = {
            d: owner for d, owner in self.sessions.items() if owner != user_id or d == keep_digest
        }

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
    await accounts.change_password(store, user, change, NOW, origin=ORIGIN, session_id="s")
    assert check.ok and await accounts.log_in(store, check, NOW, origin=ORIGIN) is None
    assert store.event_names()[-1] == "sign_in_failed"
    # Nor does a second change made from the same check of the old password.
    with pytest.raises(Invalid) as caught:
        await accounts.change_password(store, user, change, NOW, origin=ORIGIN, session_id="s")
    assert "current_password" in caught.value.fields
    assert await log_in(store, "a@example.com", "y" * 8) is not None


async def test_a_password_change_ends_every_session_but_the_one_that_made_it() -> None:
    store = MemoryUsers()
    user = await sign_up(store, "a@example.com", "x" * 8)
    other = await sign_up(store, "b@example.com", "x" * 8)
    store.sessions = {digest("mine"): user.id, digest("thief"): user.id, digest("b"): other.id}
    credentials = await accounts.find_credentials(store, "a@example.com")
    change = await accounts.check_password_change(credentials, user, "x" * 8, "y" * 8, CHEAP)
    await accounts.change_password(store, user, change, NOW, origin=ORIGIN, session_id="mine")
    assert store.sessions == {digest("mine"): user.id, digest("b"): other.id}


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


# --- Look-alike addresses (audit finding 5; OWASP Input Validation, Unicode UTS #39) -----

LOOKALIKES = [
    ("\uff4bate@example.com", "a fullwidth k"),
    (
        "\uff4b\uff41\uff54\uff45@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.\uff43\uff4f\uff4d",
        "all fullwidth",
    ),
    ("\u212aate@example.com", "a Kelvin sign for the K"),
    ("KATE@EXAMPLE.COM", "capitals"),
]


@pytest.mark.parametrize("email", [e for e, _ in LOOKALIKES], ids=[i for _, i in LOOKALIKES])
async def test_an_address_equal_under_nfkc_casefold_is_the_same_account(email: str) -> None:
    store = MemoryUsers()
    kate = await sign_up(store, "kate@example.com", "x" * 8)
    with pytest.raises(Conflict):
        await sign_up(store, email, "y" * 8)
    assert await log_in(store, email, "x" * 8) == kate


def test_a_composed_and_a_decomposed_accent_are_one_key() -> None:
    assert accounts.email_key("ren\u00e9@example.com") == accounts.email_key(
        "rene\u0301@example.com"
    )


INVISIBLE = [
    ("kate@example.com\u200b", "a zero-width space after it"),
    ("ka\u200bte@example.com", "a zero-width space inside"),
    ("kate\u202e@example.com", "a right-to-left override"),
    ("kate@exa\u2066mple.com", "a left-to-right isolate"),
    ("\ufeffkate@example.com", "a byte order mark"),
    ("kate@example.com\u200e", "a left-to-right mark"),
    ("ka\u200dte@example.com", "a zero-width joiner"),
]


@pytest.mark.parametrize("email", [e for e, _ in INVISIBLE], ids=[i for _, i in INVISIBLE])
async def test_an_address_with_an_invisible_format_character_is_refused(email: str) -> None:
    store = MemoryUsers()
    await sign_up(store, "kate@example.com", "x" * 8)
    with pytest.raises(Invalid) as caught:
        await sign_up(store, email, "y" * 8)
    assert "Remove the control characters" in caught.value.fields["email"]
    assert await log_in(store, email, "x" * 8) is None


async def test_an_address_whose_normal_form_outgrows_the_column_is_refused() -> None:
    # U+FDFA is one character that NFKC spells out in eighteen.
    with pytest.raises(Invalid) as caught:
        await accounts.new_account(accounts.SignUp("\ufdfa" * 20 + "@example.com", "x" * 8), CHEAP)
    assert set(caught.value.fields) == {"email"}


@pytest.mark.parametrize(
    "name",
    ["Kate\u202eetaK", "Kate\u200b", "\u2067Kate"],
    ids=["a right-to-left override", "a zero-width space", "a right-to-left isolate"],
)
async def test_an_account_name_with_an_invisible_format_character_is_refused(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        await accounts.new_account(accounts.SignUp("kate@example.com", "x" * 8, name=name), CHEAP)
    assert "Remove the control characters" in caught.value.fields["name"]


async def test_a_persian_name_keeps_its_zero_width_non_joiner() -> None:
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    account = await accounts.new_account(
        accounts.SignUp("m@example.com", "x" * 8, name=name), CHEAP
    )
    assert account.name == name
