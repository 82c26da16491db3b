"""Personal access tokens: format, digest-only storage, scopes, expiry, revocation."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import personal_tokens, token_format
from paced.core.errors import Invalid, NotFound
from paced.core.ids import BASE62, digest, to_base62
from paced.core.personal_tokens import NewToken
from paced.core.records import PersonalToken
from tests.helpers import ORIGIN, MemoryLog, MemoryMail

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


class FakeStore(MemoryLog, MemoryMail):
    def __init__(self) -> None:
        self.tokens: dict[str, PersonalToken] = {}
        self.digests: dict[str, str] = {}

    async def add_personal_token(self, token: PersonalToken, digest: str) -> None:
        self.tokens[token.id] = token
        self.digests[token.id] = digest

    async def personal_token_by_id(self, token_id: str) -> PersonalToken | None:
        return self.tokens.get(token_id)

    async def personal_tokens_of(self, user_id: str) -> list[PersonalToken]:
        return [t for t in self.tokens.values() if t.user_id == user_id]

    async def revoke_personal_token(self, token_id: str, now: datetime) -> bool:
        token = self.tokens[token_id]
        if token.revoked_at is not None:
            return False
        self.tokens[token_id] = replace(token, revoked_at=now)
        return True


async def create(store: FakeStore, **fields: object) -> personal_tokens.IssuedToken:
    request = NewToken(**{"name": "laptop", **fields})  # type: ignore[arg-type]
    return await personal_tokens.create(store, "user_1", request, NOW, origin=ORIGIN)


async def test_a_new_token_has_the_spec_format_and_only_its_digest_is_stored() -> None:
    store = FakeStore()
    issued = await create(store)
    secret = issued.secret
    assert secret.startswith("pt_secret_") and len(secret) == len("pt_secret_") + 36
    random_part, check = secret[10:40], secret[40:]
    assert set(random_part) <= set(BASE62)
    assert check == to_base62(zlib.crc32(random_part.encode("ascii")), 6)
    assert token_format.is_well_formed(secret, "pt_secret_")
    assert issued.token.id.startswith("pat_") and len(issued.token.id) == 28
    assert store.digests[issued.token.id] == digest(secret)
    assert secret not in repr(store.tokens) and secret not in repr(issued)


async def test_two_tokens_never_share_a_secret_or_an_id() -> None:
    store = FakeStore()
    first, second = await create(store), await create(store)
    assert first.secret != second.secret and first.token.id != second.token.id


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        (None, ("read", "write")),
        (["read"], ("read",)),
        (["write"], ("write",)),
        (["write", "read", "write"], ("read", "write")),
    ],
    ids=[
        "no scope named gets all of them",
        "read alone",
        "write alone",
        "duplicates and order do not matter",
    ],
)
async def test_scopes_chosen_at_creation(asked: list[str] | None, granted: tuple[str, ...]) -> None:
    issued = await create(FakeStore(), scopes=asked)
    assert issued.token.scopes == granted


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the token a name"),
        ({"name": "   "}, "name", "Give the token a name"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"scopes": []}, "scopes", "at least one scope"),
        ({"scopes": ["read", "admin"]}, "scopes", "Unknown scope: admin"),
        ({"expires_at": NOW}, "expiration", "in the future"),
        ({"expires_at": NOW - timedelta(days=1)}, "expiration", "in the future"),
    ],
    ids=[
        "an empty name",
        "a blank name",
        "a name of 101 characters",
        "no scope ticked",
        "an unknown scope",
        "an expiry of now",
        "an expiry in the past",
    ],
)
async def test_broken_rules_are_reported_beside_their_field(
    fields: dict[str, object], field: str, message: str
) -> None:
    store = FakeStore()
    with pytest.raises(Invalid) as raised:
        await create(store, **fields)
    assert message in raised.value.fields[field]
    assert store.tokens == {}


async def test_every_broken_field_is_reported_at_once() -> None:
    with pytest.raises(Invalid) as raised:
        await create(FakeStore(), name="", scopes=[], expiration="custom", expiration_date="")
    assert set(raised.value.fields) == {"name", "scopes", "expiration_date"}


async def test_a_name_of_100_characters_is_kept_trimmed() -> None:
    issued = await create(FakeStore(), name=f"  {'n' * 100}  ")
    assert issued.token.name == "n" * 100


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("7", NOW + timedelta(days=7)),
        ("30", NOW + timedelta(days=30)),
        ("60", NOW + timedelta(days=60)),
        ("90", NOW + timedelta(days=90)),
        ("none", None),
    ],
    ids=["7 days", "30 days", "60 days", "90 days", "no expiration"],
)
async def test_expiry_choices_of_the_form(choice: str, expected: datetime | None) -> None:
    issued = await create(FakeStore(), expiration=choice)
    assert issued.token.expires_at == expected


async def test_a_custom_date_lasts_to_the_end_of_that_day_in_the_users_time_zone() -> None:
    issued = await create(
        FakeStore(), expiration="custom", expiration_date="2026-03-01", time_zone="Europe/Paris"
    )
    # Midnight at the end of 1 March in Paris (UTC+1 in winter) is 23:00 UTC on 1 March.
    assert issued.token.expires_at == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("choice", "day", "field", "message"),
    [
        ("custom", "", "expiration_date", "like 2030-12-31"),
        ("custom", "31/12/2030", "expiration_date", "like 2030-12-31"),
        ("custom", "2026-01-15", "expiration_date", "after today"),
        ("custom", "2025-06-01", "expiration_date", "after today"),
        ("custom", "9999-12-31", "expiration_date", "hundred years"),
        ("365", "", "expiration", "Choose when"),
    ],
    ids=[
        "a custom choice without a date",
        "a date in another format",
        "today",
        "a date in the past",
        "a date too far away",
        "a number of days not offered",
    ],
)
async def test_bad_expiry_choices(choice: str, day: str, field: str, message: str) -> None:
    with pytest.raises(Invalid) as raised:
        await create(FakeStore(), expiration=choice, expiration_date=day)
    assert message in raised.value.fields[field]


def test_state_of_a_token() -> None:
    token = PersonalToken(
        id="pat_1",
        user_id="user_1",
        name="n",
        scopes=("read",),
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
        last_used_at=None,
        revoked_at=None,
    )
    assert personal_tokens.state(token, NOW) == "active"
    assert personal_tokens.state(token, NOW + timedelta(days=1)) == "expired"
    assert personal_tokens.state(replace(token, expires_at=None), NOW + timedelta(days=999)) == (
        "active"
    )
    assert personal_tokens.state(replace(token, revoked_at=NOW), NOW) == "revoked"


async def test_revoke_keeps_the_first_time_and_refuses_another_owner() -> None:
    store = FakeStore()
    issued = await create(store)
    with pytest.raises(NotFound):
        await personal_tokens.revoke(store, issued.token.id, NOW, owner_id="user_2", origin=ORIGIN)
    with pytest.raises(NotFound):
        await personal_tokens.owned(store, issued.token.id, "user_2")
    with pytest.raises(NotFound):
        await personal_tokens.revoke(store, "pat_unknown", NOW, owner_id=None, origin=ORIGIN)
    revoked = await personal_tokens.revoke(
        store, issued.token.id, NOW, owner_id="user_1", origin=ORIGIN
    )
    assert revoked.revoked_at == NOW
    again = await personal_tokens.revoke(
        store,
        issued.token.id,
        NOW + timedelta(hours=1),
        owner_id=None,
        origin=ORIGIN,
    )
    assert again.revoked_at == NOW
