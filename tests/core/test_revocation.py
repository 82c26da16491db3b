"""Token revocation (RFC 7009)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paced.core import revocation, token_format
from paced.core.errors import InvalidClient, InvalidRequest, OAuthError
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
    form_request,
    refresh,
)
from tests.fakes import MemoryStore, unit_of_work

LATER = NOW + timedelta(minutes=5)


async def issued(memory: MemoryStore, client: Client, ann: Person) -> tuple[str, IssuedTokens]:
    code = await add_code(memory, client, ann)
    return code.grant_id, await exchange_code(memory, client, code)


async def revoke(memory: MemoryStore, client: Client, params: dict[str, str]) -> None:
    async with unit_of_work(memory) as store:
        await revocation.revoke(store, form_request({**params, **client.form()}), LATER, Policy())


async def test_revoking_a_refresh_token_ends_its_whole_grant(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await issued(memory, zapier, ann)
    second = await refresh(memory, zapier, first.refresh_token, when=NOW + timedelta(minutes=1))
    await revoke(
        memory, zapier, {"token": second.refresh_token, "token_type_hint": "refresh_token"}
    )
    assert memory.row("grants", id=grant_id)["revoked_at"] == LATER
    family = memory.rows("access_tokens", grant_id=grant_id)
    assert [token["revoked_at"] for token in family] == [LATER, LATER]


async def test_revoking_an_access_token_ends_that_token_only(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, first = await issued(memory, zapier, ann)
    await revoke(memory, zapier, {"token": first.access_token})
    access = memory.row("access_tokens", digest=digest(first.access_token))
    assert access["revoked_at"] == LATER
    assert memory.row("grants", id=grant_id)["revoked_at"] is None
    # The client keeps its refresh token, and gets a new access token with it.
    await refresh(memory, zapier, first.refresh_token, when=LATER)


async def test_a_public_client_revokes_its_own_token_by_client_id(
    memory: MemoryStore, ann: Person
) -> None:
    app = await add_client(memory, ann, public=True)
    grant_id, first = await issued(memory, app, ann)
    await revoke(memory, app, {"token": first.refresh_token})
    assert memory.row("grants", id=grant_id)["revoked_at"] == LATER


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
    memory: MemoryStore, zapier: Client, ann: Person, token: str
) -> None:
    grant_id, _ = await issued(memory, zapier, ann)
    await revoke(memory, zapier, {"token": token})
    assert memory.row("grants", id=grant_id)["revoked_at"] is None


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
async def test_another_clients_token_is_left_alone(
    memory: MemoryStore, zapier: Client, ann: Person, kind: str
) -> None:
    grant_id, pair = await issued(memory, zapier, ann)
    stranger = await add_client(memory, ann, name="Stranger")
    await revoke(memory, stranger, {"token": getattr(pair, kind)})
    assert memory.row("grants", id=grant_id)["revoked_at"] is None
    access = memory.row("access_tokens", digest=digest(pair.access_token))
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
    memory: MemoryStore,
    zapier: Client,
    params: dict[str, str],
    secret: str | None,
    error: type[OAuthError],
) -> None:
    client = Client(zapier.app_id, zapier.client_id, secret) if secret else zapier
    with pytest.raises(error):
        await revoke(memory, client, params)
