"""The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §4.8), on every
database: the checks in order, single use, and the revocation that punishes a replay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core import authorization_codes, token_format
from paced.core.authorization_codes import CodeExchange
from paced.core.client_auth import ClientCredentials
from paced.core.errors import InvalidClient, InvalidGrant, InvalidRequest, PacedError
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.token_issuance import IssuedTokens
from paced.storage.unit_of_work import unit_of_work
from tests.helpers import ORIGIN
from tests.oauth_helpers import (
    NOW,
    POLICY,
    REDIRECT,
    VERIFIER,
    Client,
    Code,
    Person,
    add_client,
    add_code,
    exchange_code,
    refresh,
    row,
    rows,
)


async def test_a_code_becomes_a_token_pair_with_the_grants_scope(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann, scopes="read write")
    issued = await exchange_code(engine, zapier, code)

    assert issued.body() == {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": 7200,
        "refresh_token": issued.refresh_token,
        "scope": "read write",
        "created_at": int(NOW.timestamp()),
    }
    assert token_format.is_well_formed(issued.access_token, "pt_oauth_")
    assert token_format.is_well_formed(issued.refresh_token, "pt_refresh_")
    access = await row(engine, "access_tokens", digest=digest(issued.access_token))
    assert access["grant_id"] == code.grant_id
    assert access["scopes"] == "read write"
    assert access["expires_at"] == NOW + timedelta(seconds=7200)
    fresh = await row(engine, "refresh_tokens", digest=digest(issued.refresh_token))
    assert (fresh["grant_id"], fresh["expires_at"], fresh["rotated_at"]) == (
        code.grant_id,
        None,
        None,
    )
    assert (await row(engine, "grants", id=code.grant_id))["last_used_at"] == NOW
    assert (await row(engine, "authorization_codes", digest=digest(code.code)))["used_at"] == NOW


async def test_a_public_client_exchanges_with_pkce_alone(engine: AsyncEngine, ann: Person) -> None:
    app = await add_client(engine, ann, public=True)
    code = await add_code(engine, app, ann)
    issued = await exchange_code(engine, app, code)
    assert issued.scopes == ("read",)


@pytest.mark.parametrize(
    "sent",
    [None, REDIRECT],
    ids=["omitting redirect_uri too", "naming the app's only redirect URI"],
)
async def test_a_code_requested_without_redirect_uri_is_exchanged(
    engine: AsyncEngine, zapier: Client, ann: Person, sent: str | None
) -> None:
    code = await add_code(engine, zapier, ann, redirect_uri="")
    async with unit_of_work(engine) as store:
        issued = await authorization_codes.exchange(
            store,
            zapier.credentials(),
            CodeExchange(code.code, sent, VERIFIER),
            NOW,
            POLICY,
            origin=ORIGIN,
        )
    assert issued.scopes == ("read",)


REFUSALS = [
    # (id, code kwargs, exchange overrides, error)
    ("an unknown code", {}, {"code": "no-such-code"}, InvalidGrant),
    ("no code at all", {}, {"code": None}, InvalidRequest),
    ("a code of another client", {}, {"other_client": True}, InvalidGrant),
    ("a wrong client secret", {}, {"wrong_secret": True}, InvalidClient),
    ("an expired code", {}, {"later": POLICY.auth_code_ttl}, InvalidGrant),
    ("another redirect_uri", {}, {"redirect_uri": REDIRECT + "/other"}, InvalidGrant),
    ("no redirect_uri where the request had one", {}, {"redirect_uri": None}, InvalidGrant),
    ("no code_verifier for a code with a challenge", {}, {"verifier": None}, InvalidGrant),
    ("a code_verifier that does not match", {}, {"verifier": "a" * 43}, InvalidGrant),
    ("a malformed code_verifier", {}, {"verifier": "short"}, InvalidGrant),
    (
        "a code_verifier for a code issued without a challenge (PKCE downgrade)",
        {"challenge": None},
        {},
        InvalidGrant,
    ),
    ("a public client's code without PKCE", {"challenge": None}, {"public": True}, InvalidGrant),
]


@pytest.mark.parametrize(
    ("code_options", "overrides", "error"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
async def test_a_code_is_refused(
    engine: AsyncEngine,
    zapier: Client,
    ann: Person,
    code_options: dict[str, object],
    overrides: dict[str, object],
    error: type[PacedError],
) -> None:
    client = zapier
    if overrides.get("public"):
        client = await add_client(engine, ann, public=True)
    code = await add_code(engine, client, ann, **code_options)  # type: ignore[arg-type]
    presenter = client
    if overrides.get("other_client"):
        presenter = await add_client(engine, ann, name="Other")
    credentials = presenter.credentials()
    if overrides.get("wrong_secret"):
        credentials = ClientCredentials(
            client.client_id, token_format.generate("pt_client_"), "client_secret_post"
        )
    request = CodeExchange(
        code=overrides.get("code", code.code),  # type: ignore[arg-type]
        redirect_uri=overrides.get("redirect_uri", REDIRECT),  # type: ignore[arg-type]
        code_verifier=overrides.get("verifier", VERIFIER),  # type: ignore[arg-type]
    )
    when = NOW + overrides.get("later", timedelta(0))  # type: ignore[operator]

    with pytest.raises(error):
        async with unit_of_work(engine) as store:
            await authorization_codes.exchange(
                store, credentials, request, when, POLICY, origin=ORIGIN
            )

    # A refused exchange spends nothing: the code stays usable by its rightful client.
    assert (await row(engine, "authorization_codes", digest=digest(code.code)))["used_at"] is None
    assert await rows(engine, "access_tokens") == []
    assert (await row(engine, "grants", id=code.grant_id))["revoked_at"] is None


async def test_a_code_of_a_revoked_grant_is_refused(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann)
    async with unit_of_work(engine) as store:
        await store.revoke_grant(code.grant_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await exchange_code(engine, zapier, code)


async def test_a_second_exchange_fails_and_revokes_every_token_of_the_code(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann)
    first = await exchange_code(engine, zapier, code)
    rotated = await refresh(engine, zapier, first.refresh_token, when=NOW + timedelta(minutes=1))

    with pytest.raises(InvalidGrant, match="already been used"):
        await exchange_code(engine, zapier, code, when=NOW + timedelta(minutes=2))

    # The revocation was committed although the request failed (RFC 6749 §4.1.2).
    revoked_at = NOW + timedelta(minutes=2)
    assert (await row(engine, "grants", id=code.grant_id))["revoked_at"] == revoked_at
    tokens = await rows(engine, "access_tokens", grant_id=code.grant_id)
    tokens += await rows(engine, "refresh_tokens", grant_id=code.grant_id)
    assert len(tokens) == 4
    assert {token["revoked_at"] for token in tokens} == {revoked_at}
    with pytest.raises(InvalidGrant):
        await refresh(engine, zapier, rotated.refresh_token, when=NOW + timedelta(minutes=3))


async def test_a_replay_leaves_other_approvals_of_the_same_app_alone(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    replayed, other = await add_code(engine, zapier, ann), await add_code(engine, zapier, ann)
    await exchange_code(engine, zapier, replayed)
    kept = await exchange_code(engine, zapier, other)
    with pytest.raises(InvalidGrant):
        await exchange_code(engine, zapier, replayed)
    assert (await row(engine, "grants", id=other.grant_id))["revoked_at"] is None
    access = await row(engine, "access_tokens", digest=digest(kept.access_token))
    assert access["revoked_at"] is None


async def test_a_replay_by_another_client_revokes_nothing(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann)
    await exchange_code(engine, zapier, code)
    stranger = await add_client(engine, ann, name="Stranger")
    with pytest.raises(InvalidGrant):
        await exchange_code(engine, stranger, code)
    assert (await row(engine, "grants", id=code.grant_id))["revoked_at"] is None


async def test_sixteen_parallel_exchanges_of_one_code_have_one_winner(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code: Code = await add_code(engine, zapier, ann)
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


async def test_a_code_ttl_shortened_after_issue_applies(
    engine: AsyncEngine, zapier: Client, ann: Person
) -> None:
    code = await add_code(engine, zapier, ann)  # issued to live ten minutes
    shorter = Policy(auth_code_ttl=timedelta(seconds=60))
    with pytest.raises(InvalidGrant, match="expired"):
        await exchange_code(engine, zapier, code, when=NOW + timedelta(seconds=60), policy=shorter)
