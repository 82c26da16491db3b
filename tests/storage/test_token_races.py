"""The token endpoint's and /device's use cases racing on every database: whole units of
work at once, where only storage's conditional updates and row locks decide the one
winner, and where the revocation that punishes the losers' second use must still reach
the winner's tokens (RFC 9700 §4.14, RFC 6749 §4.1.2, RFC 8628 §3.5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import device_approval, device_authorization, device_grant, token_endpoint
from paced.core.device_approval import WrongUserCode
from paced.core.errors import InvalidGrant
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.token_issuance import IssuedTokens
from paced.storage.engine import create_engine, dispose
from paced.storage.unit_of_work import reading, unit_of_work
from tests.helpers import ORIGIN
from tests.oauth_helpers import (
    NOW,
    POLICY,
    Client,
    Person,
    add_client,
    add_code,
    add_user,
    exchange_code,
    form_request,
    refresh,
    row,
    rows,
)

LATER = NOW + timedelta(hours=1)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await dispose(engine)


@pytest.fixture
async def ann(engine: AsyncEngine) -> Person:
    return await add_user(engine)


@pytest.fixture
async def zapier(engine: AsyncEngine, ann: Person) -> Client:
    return await add_client(engine, ann)


# --- the authorization_code grant -------------------------------------------------------


async def test_sixteen_parallel_exchanges_of_one_code_have_one_winner(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann)
    results = await asyncio.gather(
        *(exchange_code(engine, zapier, code) for _ in range(16)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, IssuedTokens)]
    losers = [r for r in results if isinstance(r, InvalidGrant)]
    assert (len(winners), len(losers)) == (1, 15), results
    assert len(await rows(engine, "access_tokens", grant_id=code.grant_id)) == 1
    # Fifteen second uses: the grant, with the winner's tokens, is revoked.
    assert (await row(engine, "grants", id=code.grant_id))["revoked_at"] == NOW
    access = await row(engine, "access_tokens", digest=digest(winners[0].access_token))
    assert access["revoked_at"] == NOW


# --- the refresh_token grant ------------------------------------------------------------


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


async def first_pair(engine: AsyncEngine, client: Client, ann: Person) -> tuple[str, IssuedTokens]:
    code = await add_code(engine, client, ann, scopes="read write")
    return code.grant_id, await exchange_code(engine, client, code)


async def test_sixteen_parallel_refreshes_have_one_winner_and_strictly_revoke_the_grant(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(engine, zapier, ann)
    winners, losers = await parallel_refreshes(engine, zapier, first.refresh_token, Policy())
    assert (len(winners), len(losers)) == (1, 15)
    assert len(await rows(engine, "refresh_tokens", grant_id=grant_id)) == 2
    # With no grace, fifteen uses of a replaced token end the grant, the winner's pair too.
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] == LATER
    fresh = await row(engine, "refresh_tokens", digest=digest(winners[0].refresh_token))
    assert fresh["revoked_at"] == LATER


async def test_sixteen_parallel_refreshes_within_the_grace_leave_the_winner_working(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_reuse_grace=timedelta(seconds=10))
    grant_id, first = await first_pair(engine, zapier, ann)
    winners, losers = await parallel_refreshes(engine, zapier, first.refresh_token, policy)
    assert (len(winners), len(losers)) == (1, 15)
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] is None
    later = LATER + timedelta(minutes=1)
    assert (
        await refresh(engine, zapier, winners[0].refresh_token, when=later, policy=policy)
    ).scopes


# --- the device grant -------------------------------------------------------------------


@pytest.fixture
async def cli(engine: AsyncEngine, ann: Person) -> Client:
    """A public client, as a command-line tool is, with the device flow enabled."""
    return await add_client(engine, ann, public=True, device_flow=True)


async def start(engine: AsyncEngine, client: Client) -> device_authorization.DeviceAuthorization:
    async with unit_of_work(engine) as store:
        return await device_authorization.authorize_device(
            store, form_request(client.form()), NOW, POLICY
        )


async def poll(engine: AsyncEngine, client: Client, device_code: str) -> IssuedTokens:
    params = client.form() | {"grant_type": device_grant.GRANT_TYPE, "device_code": device_code}
    async with unit_of_work(engine) as store:
        return await token_endpoint.token(
            store, form_request(params), NOW + timedelta(seconds=5), POLICY
        )


async def approve(engine: AsyncEngine, person: Person, typed: str) -> None:
    async with reading(engine) as store:
        who = await store.user_by_id(person.id)
    assert who is not None
    async with unit_of_work(engine) as store:
        await device_approval.approve(store, typed, who, NOW, origin=ORIGIN)


async def test_concurrent_polls_of_an_approved_code_get_one_token_pair(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    await approve(engine, ann, started.user_code)
    results = await asyncio.gather(
        *(poll(engine, cli, started.device_code) for _ in range(8)), return_exceptions=True
    )
    issued = [r for r in results if isinstance(r, IssuedTokens)]
    refused = [r for r in results if isinstance(r, InvalidGrant)]
    assert (len(issued), len(refused)) == (1, 7), results
    assert len(await rows(engine, "access_tokens")) == 1


async def test_concurrent_approvals_attach_one_grant(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    results = await asyncio.gather(
        *(approve(engine, ann, started.user_code) for _ in range(4)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, WrongUserCode) for r in results if r is not None), results
    issued = await poll(engine, cli, started.device_code)
    access = await row(engine, "access_tokens", digest=digest(issued.access_token))
    stored = await row(engine, "device_codes", digest=digest(started.device_code))
    assert access["grant_id"] == stored["grant_id"]
