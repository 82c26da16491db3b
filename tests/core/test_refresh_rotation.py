"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700
§4.14), lifetimes and the reuse grace of docs/reference.md §1. Refreshes racing on a real
database: tests/storage/test_token_races.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paced.core import token_format
from paced.core.errors import InvalidClient, InvalidGrant, InvalidRequest, InvalidScope
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.token_issuance import IssuedTokens
from tests.core.helpers import (
    NOW,
    Client,
    Person,
    add_client,
    add_code,
    exchange_code,
    refresh,
)
from tests.fakes import MemoryStore, unit_of_work

LATER = NOW + timedelta(hours=1)


async def first_pair(
    memory: MemoryStore, client: Client, ann: Person, *, scopes: str = "read write"
) -> tuple[str, IssuedTokens]:
    """(grant id, the pair the code exchange issued)."""
    code = await add_code(memory, client, ann, scopes=scopes)
    return code.grant_id, await exchange_code(memory, client, code)


async def grant_revoked_at(memory: MemoryStore, grant_id: str) -> object:
    return memory.row("grants", id=grant_id)["revoked_at"]


async def test_a_refresh_replaces_the_refresh_token(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(memory, zapier, ann)
    second = await refresh(memory, zapier, first.refresh_token, when=LATER)

    assert second.body() == {
        "access_token": second.access_token,
        "token_type": "bearer",
        "expires_in": 7200,
        "refresh_token": second.refresh_token,
        "scope": "read write",
        "created_at": int(LATER.timestamp()),
    }
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    old = memory.row("refresh_tokens", digest=digest(first.refresh_token))
    assert old["rotated_at"] == LATER and old["revoked_at"] is None
    new = memory.row("refresh_tokens", digest=digest(second.refresh_token))
    assert (new["grant_id"], new["rotated_at"], new["scopes"]) == (grant_id, None, "read write")
    assert memory.row("grants", id=grant_id)["last_used_at"] == LATER
    # The earlier access token lives on until it expires.
    earlier = memory.row("access_tokens", digest=digest(first.access_token))
    assert earlier["revoked_at"] is None


async def test_a_public_client_refreshes_by_client_id_alone(
    memory: MemoryStore, ann: Person
) -> None:
    app = await add_client(memory, ann, public=True)
    _, first = await first_pair(memory, app, ann)
    second = await refresh(memory, app, first.refresh_token, when=LATER)
    assert token_format.is_well_formed(second.refresh_token, "pt_refresh_")


async def test_a_narrower_scope_applies_to_the_access_token_only(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(memory, zapier, ann)
    narrow = await refresh(memory, zapier, first.refresh_token, when=LATER, scope="read")
    assert narrow.body()["scope"] == "read"
    access = memory.row("access_tokens", digest=digest(narrow.access_token))
    assert access["scopes"] == "read"
    # RFC 6749 §6: the new refresh token keeps the original scope...
    fresh = memory.row("refresh_tokens", digest=digest(narrow.refresh_token))
    assert fresh["scopes"] == "read write"
    # ...so that the next refresh may ask for all of it again.
    again = await refresh(memory, zapier, narrow.refresh_token, when=LATER + timedelta(hours=1))
    assert again.scopes == ("read", "write")


@pytest.mark.parametrize(
    ("scope", "error"),
    [("read write", InvalidScope), ("admin", InvalidScope)],
    ids=["a scope wider than the grant", "an unknown scope"],
)
async def test_a_scope_beyond_the_grant_is_refused(
    memory: MemoryStore, zapier: Client, ann: Person, scope: str, error: type[Exception]
) -> None:
    _, first = await first_pair(memory, zapier, ann, scopes="read")
    with pytest.raises(error):
        await refresh(memory, zapier, first.refresh_token, when=LATER, scope=scope)
    # Refused before rotation: the token still works.
    assert (await refresh(memory, zapier, first.refresh_token, when=LATER)).scopes == ("read",)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (None, InvalidRequest),
        ("pt_refresh_nonsense", InvalidGrant),
        (token_format.generate("pt_refresh_"), InvalidGrant),
        (token_format.generate("pt_oauth_"), InvalidGrant),
    ],
    ids=[
        "no refresh_token",
        "a malformed refresh token",
        "an unknown refresh token",
        "an access token in its place",
    ],
)
async def test_a_refresh_token_that_is_not_one_is_refused(
    memory: MemoryStore, zapier: Client, token: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await refresh(memory, zapier, token, when=LATER)  # type: ignore[arg-type]


async def test_another_clients_refresh_token_is_refused_and_not_rotated(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(memory, zapier, ann)
    stranger = await add_client(memory, ann, name="Stranger")
    with pytest.raises(InvalidGrant):
        await refresh(memory, stranger, first.refresh_token, when=LATER)
    assert (await refresh(memory, zapier, first.refresh_token, when=LATER)).scopes


async def test_a_wrong_client_secret_is_invalid_client(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(memory, zapier, ann)
    impostor = Client(zapier.app_id, zapier.client_id, token_format.generate("pt_client_"))
    with pytest.raises(InvalidClient):
        await refresh(memory, impostor, first.refresh_token, when=LATER)


async def test_a_replaced_refresh_token_presented_again_revokes_the_whole_grant(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(memory, zapier, ann)
    second = await refresh(memory, zapier, first.refresh_token, when=LATER)
    third = await refresh(memory, zapier, second.refresh_token, when=LATER + timedelta(hours=1))
    reuse_at = LATER + timedelta(hours=2)

    with pytest.raises(InvalidGrant, match="already been used"):
        await refresh(memory, zapier, first.refresh_token, when=reuse_at)

    # Committed although the request failed: the code's whole family is over.
    assert await grant_revoked_at(memory, grant_id) == reuse_at
    family = memory.rows("access_tokens", grant_id=grant_id)
    family += memory.rows("refresh_tokens", grant_id=grant_id)
    assert len(family) == 6
    assert all(token["revoked_at"] is not None for token in family)
    with pytest.raises(InvalidGrant, match="revoked"):
        await refresh(memory, zapier, third.refresh_token, when=reuse_at)


async def test_reuse_revokes_only_that_grant(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(memory, zapier, ann)
    other_grant, other = await first_pair(memory, zapier, ann)
    await refresh(memory, zapier, first.refresh_token, when=LATER)
    with pytest.raises(InvalidGrant):
        await refresh(memory, zapier, first.refresh_token, when=LATER)
    assert await grant_revoked_at(memory, grant_id) == LATER
    assert await grant_revoked_at(memory, other_grant) is None
    assert (await refresh(memory, zapier, other.refresh_token, when=LATER)).scopes


@pytest.mark.parametrize(
    ("grace", "revoked"),
    [(timedelta(0), True), (timedelta(seconds=10), False)],
    ids=["with no grace it revokes the grant", "within the grace it is only refused"],
)
async def test_a_refresh_that_loses_the_race_to_rotate_is_a_second_use(
    memory: MemoryStore, zapier: Client, ann: Person, grace: timedelta, revoked: bool
) -> None:
    policy = Policy(refresh_reuse_grace=grace)
    grant_id, first = await first_pair(memory, zapier, ann)
    memory.lose_next("rotate_refresh_token")  # a concurrent refresh rotated it first
    with pytest.raises(InvalidGrant, match="already been used"):
        await refresh(memory, zapier, first.refresh_token, when=LATER, policy=policy)
    assert (await grant_revoked_at(memory, grant_id) == LATER) == revoked
    assert len(memory.rows("refresh_tokens", grant_id=grant_id)) == 1


@pytest.mark.parametrize(
    ("after", "revoked"),
    [(timedelta(seconds=29), False), (timedelta(seconds=30), True)],
    ids=["within the grace it is only refused", "once the grace is over it revokes the grant"],
)
async def test_reuse_grace(
    memory: MemoryStore, zapier: Client, ann: Person, after: timedelta, revoked: bool
) -> None:
    policy = Policy(refresh_reuse_grace=timedelta(seconds=30))
    grant_id, first = await first_pair(memory, zapier, ann)
    second = await refresh(memory, zapier, first.refresh_token, when=LATER, policy=policy)
    with pytest.raises(InvalidGrant, match="already been used"):
        await refresh(memory, zapier, first.refresh_token, when=LATER + after, policy=policy)
    assert (await grant_revoked_at(memory, grant_id) is not None) == revoked
    if not revoked:  # the winner of the race keeps working
        later = LATER + timedelta(minutes=5)
        assert (
            await refresh(memory, zapier, second.refresh_token, when=later, policy=policy)
        ).scopes


@pytest.mark.parametrize(
    ("policy", "used_after", "refused"),
    [
        (Policy(refresh_token_ttl=timedelta(days=30)), timedelta(days=30), True),
        (Policy(refresh_token_ttl=timedelta(days=30)), timedelta(days=29), False),
        (Policy(refresh_token_max_age=timedelta(days=90)), timedelta(days=90), True),
        (Policy(refresh_token_max_age=timedelta(days=90)), timedelta(days=89), False),
        (Policy(), timedelta(days=3650), False),
    ],
    ids=[
        "unused for the whole TTL it has expired",
        "used within the TTL it works",
        "at the grant's maximum age it has expired",
        "before the maximum age it works",
        "with no limits it never expires",
    ],
)
async def test_refresh_token_lifetimes(
    memory: MemoryStore,
    zapier: Client,
    ann: Person,
    policy: Policy,
    used_after: timedelta,
    refused: bool,
) -> None:
    code = await add_code(memory, zapier, ann)
    first = await exchange_code(memory, zapier, code, policy=policy)
    if refused:
        with pytest.raises(InvalidGrant, match="expired"):
            await refresh(memory, zapier, first.refresh_token, when=NOW + used_after, policy=policy)
    else:
        await refresh(memory, zapier, first.refresh_token, when=NOW + used_after, policy=policy)


async def test_the_ttl_counts_from_the_last_rotation_and_the_max_age_from_the_authorization(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_token_ttl=timedelta(days=30), refresh_token_max_age=timedelta(days=75))
    code = await add_code(memory, zapier, ann)
    pair = await exchange_code(memory, zapier, code, policy=policy)
    stored = memory.row("refresh_tokens", digest=digest(pair.refresh_token))
    assert stored["expires_at"] == NOW + timedelta(days=30)
    for day in (29, 58):  # each rotation gives 30 more days...
        pair = await refresh(
            memory, zapier, pair.refresh_token, when=NOW + timedelta(days=day), policy=policy
        )
    stored = memory.row("refresh_tokens", digest=digest(pair.refresh_token))
    assert stored["expires_at"] == NOW + timedelta(days=75)  # ...up to the grant's maximum age
    with pytest.raises(InvalidGrant, match="expired"):
        await refresh(
            memory, zapier, pair.refresh_token, when=NOW + timedelta(days=75), policy=policy
        )


async def test_a_policy_tightened_after_issue_applies(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(memory, zapier, ann)  # issued with no expiry
    strict = Policy(refresh_token_ttl=timedelta(days=1))
    with pytest.raises(InvalidGrant, match="expired"):
        await refresh(
            memory, zapier, first.refresh_token, when=NOW + timedelta(days=2), policy=strict
        )


async def test_a_refresh_token_of_a_revoked_grant_is_refused(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(memory, zapier, ann)
    async with unit_of_work(memory) as store:
        await store.revoke_user_app_grants(ann.id, zapier.app_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await refresh(memory, zapier, first.refresh_token, when=LATER)
    assert await grant_revoked_at(memory, grant_id) == NOW
