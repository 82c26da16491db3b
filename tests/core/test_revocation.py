"""Token revocation (RFC 7009), on every database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import revocation, token_format
from paced.core.errors import InvalidClient, InvalidRequest, OAuthError
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
    form_request,
    refresh,
    row,
    rows,
)

LATER = NOW + timedelta(minutes=5)


async def issued(engine: AsyncEngine, client: Client, ann: Person) -> tuple[str, IssuedTokens]:
    code = await add_code(engine, client, ann)
    return code.grant_id, await exchange_code(engine, client, code)


async def revoke(engine: AsyncEngine, client: Client, params: dict[str, str]) -> None:
    async with unit_of_work(engine) as store:
        await revocation.revoke(store, form_request({**params, **client.form()}), LATER, Policy())


async def test_revoking_a_refresh_token_ends_its_whole_grant(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await issued(engine, zapier, ann)
    second = await refresh(engine, zapier, first.refresh_token, when=NOW + timedelta(minutes=1))
    await revoke(
        engine, zapier, {"token": second.refresh_token, "token_type_hint": "refresh_token"}
    )
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] == LATER
    family = await rows(engine, "access_tokens", grant_id=grant_id)
    assert [token["revoked_at"] for token in family] == [LATER, LATER]


async def test_revoking_an_access_token_ends_that_token_only(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    grant_id, first = await issued(engine, zapier, ann)
    await revoke(engine, zapier, {"token": first.access_token})
    access = await row(engine, "access_tokens", digest=digest(first.access_token))
    assert access["revoked_at"] == LATER
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] is None
    # The client keeps its refresh token, and gets a new access token with it.
    await refresh(engine, zapier, first.refresh_token, when=LATER)


async def test_a_public_client_revokes_its_own_token_by_client_id(
    engine: AsyncEngine, ann: Person
) -> None:
    app = await add_client(engine, ann, public=True)
    grant_id, first = await issued(engine, app, ann)
    await revoke(engine, app, {"token": first.refresh_token})
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] == LATER


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "pt_refresh_" + "x" * 36,
        token_format.generate("pt_refresh_"),
        token_format.generate("pt_oauth_"),
        token_format.generate("pt_secret_"),
    ],
    ids=[
        "a malformed token",
        "a token with a bad checksum",
        "an unknown refresh token",
        "an unknown access token",
        "a personal access token",
    ],
)
async def test_a_token_that_is_not_the_clients_is_answered_like_a_success(
    engine: AsyncEngine, zapier: Client, ann: Person, token: str
) -> None:
    grant_id, _ = await issued(engine, zapier, ann)
    await revoke(engine, zapier, {"token": token})
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] is None


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
async def test_another_clients_token_is_left_alone(
    engine: AsyncEngine, zapier: Client, ann: Person, kind: str
) -> None:
    grant_id, pair = await issued(engine, zapier, ann)
    stranger = await add_client(engine, ann, name="Stranger")
    await revoke(engine, stranger, {"token": getattr(pair, kind)})
    assert (await row(engine, "grants", id=grant_id))["revoked_at"] is None
    access = await row(engine, "access_tokens", digest=digest(pair.access_token))
    assert access["revoked_at"] is None


@pytest.mark.parametrize(
    ("params", "secret", "error"),
    [
        ({}, None, InvalidRequest),
        ({"token": ""}, None, InvalidRequest),
        ({"token": "x"}, token_format.generate("pt_client_"), InvalidClient),
    ],
    ids=["no token", "an empty token", "a wrong client secret"],
)
async def test_refused_revocation_requests(
    engine: AsyncEngine,
    zapier: Client,
    params: dict[str, str],
    secret: str | None,
    error: type[OAuthError],
) -> None:
    client = Client(zapier.app_id, zapier.client_id, secret) if secret else zapier
    with pytest.raises(error):
        await revoke(engine, client, params)
