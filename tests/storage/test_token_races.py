"""The token endpoint's and /device's use cases racing on every database: whole units of
work at once, where only storage's conditional updates and row locks decide the one
winner, and where the revocation that punishes the losers' second use must still reach
the winner's tokens (RFC 9700 §4.14, RFC 6749 §4.1.2, RFC 8628 §3.5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from paced.core import device_approval, device_authorization, device_grant, token_endpoint
from paced.core.device_approval import WrongUserCode
from paced.core.errors import InvalidGrant
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.token_issuance import IssuedTokens
from paced.storage.database import Database, open_database
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
async def database(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def ann(database: Database) -> Person:
    return await add_user(database)


@pytest.fixture
async def zapier(database: Database, ann: Person) -> Client:
    return await add_client(database, ann)


# --- the authorization_code grant -------------------------------------------------------


async def test_sixteen_parallel_exchanges_of_one_code_have_one_winner(
    database: Database, zapier: Client, ann: Person
) -> None:
    code = await add_code(database, zapier, ann)
    results = await asyncio.gather(
        *(exchange_code(database, zapier, code) for _ in range(16)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, IssuedTokens)]
    losers = [r for r in results if isinstance(r, InvalidGrant)]
    assert (len(winners), len(losers)) == (1, 15), results
    assert len(await rows(database, "access_tokens", grant_id=code.grant_id)) == 1
    # Fifteen second uses: the grant, with the winner's tokens, is revoked.
    assert (await row(database, "grants", id=code.grant_id))["revoked_at"] == NOW
    access = await row(database, "access_tokens", digest=digest(winners[0].access_token))
    assert access["revoked_at"] == NOW


# --- the refresh_token grant ------------------------------------------------------------


async def parallel_refreshes(
    database: Database, client: Client, token: str, policy: Policy
) -> tuple[list[IssuedTokens], list[BaseException]]:
    results = await asyncio.gather(
        *(refresh(database, client, token, when=LATER, policy=policy) for _ in range(16)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, IssuedTokens)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, InvalidGrant) for r in losers), losers
    return winners, losers


async def first_pair(database: Database, client: Client, ann: Person) -> tuple[str, IssuedTokens]:
    code = await add_code(database, client, ann, scopes="read write")
    return code.grant_id, await exchange_code(database, client, code)


async def test_sixteen_parallel_refreshes_have_one_winner_and_strictly_revoke_the_grant(
    database: Database, zapier: Client, ann: Person
) -> None:
    grant_id, first = await first_pair(database, zapier, ann)
    winners, losers = await parallel_refreshes(database, zapier, first.refresh_token, Policy())
    assert (len(winners), len(losers)) == (1, 15)
    assert len(await rows(database, "refresh_tokens", grant_id=grant_id)) == 2
    # With no grace, fifteen uses of a replaced token end the grant, the winner's pair too.
    assert (await row(database, "grants", id=grant_id))["revoked_at"] == LATER
    fresh = await row(database, "refresh_tokens", digest=digest(winners[0].refresh_token))
    assert fresh["revoked_at"] == LATER


async def test_sixteen_parallel_refreshes_within_the_grace_leave_the_winner_working(
    database: Database, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_reuse_grace=timedelta(seconds=10))
    grant_id, first = await first_pair(database, zapier, ann)
    winners, losers = await parallel_refreshes(database, zapier, first.refresh_token, policy)
    assert (len(winners), len(losers)) == (1, 15)
    assert (await row(database, "grants", id=grant_id))["revoked_at"] is None
    later = LATER + timedelta(minutes=1)
    assert (
        await refresh(database, zapier, winners[0].refresh_token, when=later, policy=policy)
    ).scopes


# --- the device grant -------------------------------------------------------------------


@pytest.fixture
async def cli(database: Database, ann: Person) -> Client:
    """A public client, as a command-line tool is, with the device flow enabled."""
    return await add_client(database, ann, public=True, device_flow=True)


async def start(database: Database, client: Client) -> device_authorization.DeviceAuthorization:
    async with database.unit_of_work() as store:
        return await device_authorization.authorize_device(
            store, form_request(client.form()), NOW, POLICY
        )


async def poll(database: Database, client: Client, device_code: str) -> IssuedTokens:
    params = client.form() | {"grant_type": device_grant.GRANT_TYPE, "device_code": device_code}
    async with database.unit_of_work() as store:
        return await token_endpoint.token(
            store, form_request(params), NOW + timedelta(seconds=5), POLICY
        )


async def approve(database: Database, person: Person, typed: str) -> None:
    async with database.reading() as store:
        who = await store.user_by_id(person.id)
    assert who is not None
    async with database.unit_of_work() as store:
        await device_approval.approve(store, typed, who, NOW, origin=ORIGIN)


async def test_concurrent_polls_of_an_approved_code_get_one_token_pair(
    database: Database, cli: Client, ann: Person
) -> None:
    started = await start(database, cli)
    await approve(database, ann, started.user_code)
    results = await asyncio.gather(
        *(poll(database, cli, started.device_code) for _ in range(8)), return_exceptions=True
    )
    issued = [r for r in results if isinstance(r, IssuedTokens)]
    refused = [r for r in results if isinstance(r, InvalidGrant)]
    assert (len(issued), len(refused)) == (1, 7), results
    assert len(await rows(database, "access_tokens")) == 1


async def test_concurrent_approvals_attach_one_grant(
    database: Database, cli: Client, ann: Person
) -> None:
    started = await start(database, cli)
    results = await asyncio.gather(
        *(approve(database, ann, started.user_code) for _ in range(4)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, WrongUserCode) for r in results if r is not None), results
    issued = await poll(database, cli, started.device_code)
    access = await row(database, "access_tokens", digest=digest(issued.access_token))
    stored = await row(database, "device_codes", digest=digest(started.device_code))
    assert access["grant_id"] == stored["grant_id"]
