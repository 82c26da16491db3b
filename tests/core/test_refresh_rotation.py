"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700
§4.14), lifetimes and the reuse grace of docs/reference.md §1, on every database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import token_format
from paced.core.errors import InvalidClient, InvalidGrant, InvalidRequest, InvalidScope
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.token_issuance import IssuedTokens
from paced.storage.unit_of_work import unit_of_work
from tests.oauth_helpers import (
    NOW,
    Client,
    Person,
    add_client,
    add_code,
    exchange_code,
    refresh,
    row,
    rows,
)

LATER = NOW + timedelta(hours=1)


async def first_pair(
    engine: AsyncEngine, client: Client, ann: Person, *, scopes: str = "read write"
) -> tuple[str, IssuedTokens]:
    """(grant id, the pair the code exchange issued)."""
    code = await add_code(engine, client, ann, scopes=scopes)
    return code.grant_id, await exchange_code(engine, client, code)


async def grant_revoked_at(engine: AsyncEngine, grant_id: str) -> object:
    return (await row(engine, "grants", id=grant_id))["revoked_at"]


async def test_a_refresh_replaces_the_refresh_token(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    second = await refresh(engine, zapier, first.refresh_token, when=LATER)

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
    old = await row(engine, "refresh_tokens", digest=digest(first.refresh_token))
    assert old["rotated_at"] == LATER and old["revoked_at"] is None
    new = await row(engine, "refresh_tokens", digest=digest(second.refresh_token))
    assert (new["grant_id"], new["rotated_at"], new["scopes"]) == (grant_id, None, "read write")
    assert (await row(engine, "grants", id=grant_id))["last_used_at"] == LATER
    # The earlier access token lives on until it expires.
    earlier = await row(engine, "access_tokens", digest=digest(first.access_token))
    assert earlier["revoked_at"] is None


async def test_a_public_client_refreshes_by_client_id_alone(
    engine: AsyncEngine, ann: Person
) -> None:
    app = await add_client(engine, ann, public=True)
    _, first = await first_pair(engine, app, ann)
    second = await refresh(engine, app, first.refresh_token, when=LATER)
    assert token_format.is_well_formed(second.refresh_token, "pt_refresh_")


async def test_a_narrower_scope_applies_to_the_access_token_only(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(engine, zapier, ann)
    narrow = await refresh(engine, zapier, first.refresh_token, when=LATER, scope="read")
    assert narrow.body()["scope"] == "read"
    access = await row(engine, "access_tokens", digest=digest(narrow.access_token))
    assert access["scopes"] == "read"
    # RFC 6749 §6: the new refresh token keeps the original scope...
    fresh = await row(engine, "refresh_tokens", digest=digest(narrow.refresh_token))
    assert fresh["scopes"] == "read write"
    # ...so that the next refresh may ask for all of it again.
    again = await refresh(engine, zapier, narrow.refresh_token, when=LATER + timedelta(hours=1))
    assert again.scopes == ("read", "write")


@pytest.mark.parametrize(
    ("scope", "error"),
    [("read write", InvalidScope), ("admin", InvalidScope)],
    ids=["a scope wider than the grant", "an unknown scope"],
)
async def test_a_scope_beyond_the_grant_is_refused(
    engine: AsyncEngine, zapier: Client, ann: Person, scope: str, error: type[Exception]
) -> None:
    _, first = await first_pair(engine, zapier, ann, scopes="read")
    with pytest.raises(error):
        await refresh(engine, zapier, first.refresh_token, when=LATER, scope=scope)
    # Refused before rotation: the token still works.
    assert (await refresh(engine, zapier, first.refresh_token, when=LATER)).scopes == ("read",)


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
    engine: AsyncEngine, zapier: Client, token: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await refresh(engine, zapier, token, when=LATER)  # type: ignore[arg-type]


async def test_another_clients_refresh_token_is_refused_and_not_rotated(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(engine, zapier, ann)
    stranger = await add_client(engine, ann, name="Stranger")
    with pytest.raises(InvalidGrant):
        await refresh(engine, stranger, first.refresh_token, when=LATER)
    assert (await refresh(engine, zapier, first.refresh_token, when=LATER)).scopes


async def test_a_wrong_client_secret_is_invalid_client(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(engine, zapier, ann)
    impostor = Client(zapier.app_id, zapier.client_id, token_format.generate("pt_client_"))
    with pytest.raises(InvalidClient):
        await refresh(engine, impostor, first.refresh_token, when=LATER)


async def test_a_replaced_refresh_token_presented_again_revokes_the_whole_grant(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    second = await refresh(engine, zapier, first.refresh_token, when=LATER)
    third = await refresh(engine, zapier, second.refresh_token, when=LATER + timedelta(hours=1))
    reuse_at = LATER + timedelta(hours=2)

    with pytest.raises(InvalidGrant, match="already been used"):
        await refresh(engine, zapier, first.refresh_token, when=reuse_at)

    # Committed although the request failed: the code's whole family is over.
    assert await grant_revoked_at(engine, grant_id) == reuse_at
    family = await rows(engine, "access_tokens", grant_id=grant_id)
    family += await rows(engine, "refresh_tokens", grant_id=grant_id)
    assert len(family) == 6
    assert all(token["revoked_at"] is not None for token in family)
    with pytest.raises(InvalidGrant, match="revoked"):
        await refresh(engine, zapier, third.refresh_token, when=reuse_at)


async def test_reuse_revokes_only_that_grant(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    other_grant, other = await first_pair(engine, zapier, ann)
    await refresh(engine, zapier, first.refresh_token, when=LATER)
    with pytest.raises(InvalidGrant):
        await refresh(engine, zapier, first.refresh_token, when=LATER)
    assert await grant_revoked_at(engine, grant_id) == LATER
    assert await grant_revoked_at(engine, other_grant) is None
    assert (await refresh(engine, zapier, other.refresh_token, when=LATER)).scopes


@pytest.mark.parametrize(
    ("after", "revoked"),
    [(timedelta(seconds=29), False), (timedelta(seconds=30), True)],
    ids=["within the grace it is only refused", "once the grace is over it revokes the grant"],
)
async def test_reuse_grace(
    engine: AsyncEngine, zapier: Client, ann: Person, after: timedelta, revoked: bool
) -> None:
    policy = Policy(refresh_reuse_grace=timedelta(seconds=30))
    grant_id, first = await first_pair(engine, zapier, ann)
    second = await refresh(engine, zapier, first.refresh_token, when=LATER, policy=policy)
    with pytest.raises(InvalidGrant, match="already been used"):
        await refresh(engine, zapier, first.refresh_token, when=LATER + after, policy=policy)
    assert (await grant_revoked_at(engine, grant_id) is not None) == revoked
    if not revoked:  # the winner of the race keeps working
        later = LATER + timedelta(minutes=5)
        assert (
            await refresh(engine, zapier, second.refresh_token, when=later, policy=policy)
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
    engine: AsyncEngine,
    zapier: Client,
    ann: Person,
    policy: Policy,
    used_after: timedelta,
    refused: bool,
) -> None:
    code = await add_code(engine, zapier, ann)
    first = await exchange_code(engine, zapier, code, policy=policy)
    if refused:
        with pytest.raises(InvalidGrant, match="expired"):
            await refresh(engine, zapier, first.refresh_token, when=NOW + used_after, policy=policy)
    else:
        await refresh(engine, zapier, first.refresh_token, when=NOW + used_after, policy=policy)


async def test_the_ttl_counts_from_the_last_rotation_and_the_max_age_from_the_authorization(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_token_ttl=timedelta(days=30), refresh_token_max_age=timedelta(days=75))
    code = await add_code(engine, zapier, ann)
    pair = await exchange_code(engine, zapier, code, policy=policy)
    stored = await row(engine, "refresh_tokens", digest=digest(pair.refresh_token))
    assert stored["expires_at"] == NOW + timedelta(days=30)
    for day in (29, 58):  # each rotation gives 30 more days...
        pair = await refresh(
            engine, zapier, pair.refresh_token, when=NOW + timedelta(days=day), policy=policy
        )
    stored = await row(engine, "refresh_tokens", digest=digest(pair.refresh_token))
    assert stored["expires_at"] == NOW + timedelta(days=75)  # ...up to the grant's maximum age
    with pytest.raises(InvalidGrant, match="expired"):
        await refresh(
            engine, zapier, pair.refresh_token, when=NOW + timedelta(days=75), policy=policy
        )


async def test_a_policy_tightened_after_issue_applies(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    _, first = await first_pair(engine, zapier, ann)  # issued with no expiry
    strict = Policy(refresh_token_ttl=timedelta(days=1))
    with pytest.raises(InvalidGrant, match="expired"):
        await refresh(
            engine, zapier, first.refresh_token, when=NOW + timedelta(days=2), policy=strict
        )


async def test_a_refresh_token_of_a_revoked_grant_is_refused(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    async with unit_of_work(engine) as store:
        await store.revoke_user_app_grants(ann.id, zapier.app_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await refresh(engine, zapier, first.refresh_token, when=LATER)
    assert await grant_revoked_at(engine, grant_id) == NOW


async def parallel_refreshes(
    engine: AsyncEngine, client: Client, token: str, policy: Policy
) -> tuple[list[IssuedTokens], list[BaseException]]:
    results = await asyncio.gather(
        *(refresh(engine, client, token, when=LATER, policy=policy) for _ in range(16)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, IssuedTokens)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, InvalidGrant) for r in losers), losers
    return winners, losers


async def test_sixteen_parallel_refreshes_have_one_winner_and_strictly_revoke_the_grant(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    winners, losers = await parallel_refreshes(engine, zapier, first.refresh_token, Policy())
    assert (len(winners), len(losers)) == (1, 15)
    assert len(await rows(engine, "refresh_tokens", grant_id=grant_id)) == 2
    # With no grace, fifteen uses of a replaced token end the grant, the winner's pair too.
    assert await grant_revoked_at(engine, grant_id) == LATER
    fresh = await row(engine, "refresh_tokens", digest=digest(winners[0].refresh_token))
    assert fresh["revoked_at"] == LATER


async def test_sixteen_parallel_refreshes_within_the_grace_leave_the_winner_working(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_reuse_grace=timedelta(seconds=10))
    grant_id, first = await first_pair(engine, zapier, ann)
    winners, losers = await parallel_refreshes(engine, zapier, first.refresh_token, policy)
    assert (len(winners), len(losers)) == (1, 15)
    assert await grant_revoked_at(engine, grant_id) is None
    later = LATER + timedelta(minutes=1)
    assert (
        await refresh(engine, zapier, winners[0].refresh_token, when=later, policy=policy)
    ).scopes
