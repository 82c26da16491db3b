"""The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §4.8): the
checks in order, single use, and the revocation that punishes a replay. Exchanges racing
on a real database: tests/storage/test_token_races.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paced.core import authorization_codes, token_format
from paced.core.authorization_codes import CodeExchange
from paced.core.client_auth import ClientCredentials
from paced.core.errors import InvalidClient, InvalidGrant, InvalidRequest, PacedError
from paced.core.ids import digest
from paced.core.policy import Policy
from tests.core.helpers import (
    NOW,
    POLICY,
    REDIRECT,
    VERIFIER,
    Client,
    Person,
    add_client,
    add_code,
    exchange_code,
    refresh,
)
from tests.fakes import MemoryStore, unit_of_work
from tests.helpers import ORIGIN


async def test_a_code_becomes_a_token_pair_with_the_grants_scope(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann, scopes="read write")
    issued = await exchange_code(memory, zapier, code)

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
    access = memory.row("access_tokens", digest=digest(issued.access_token))
    assert access["grant_id"] == code.grant_id
    assert access["scopes"] == "read write"
    assert access["expires_at"] == NOW + timedelta(seconds=7200)
    fresh = memory.row("refresh_tokens", digest=digest(issued.refresh_token))
    assert (fresh["grant_id"], fresh["expires_at"], fresh["rotated_at"]) == (
        code.grant_id,
        None,
        None,
    )
    assert memory.row("grants", id=code.grant_id)["last_used_at"] == NOW
    assert memory.row("authorization_codes", digest=digest(code.code))["used_at"] == NOW


async def test_a_public_client_exchanges_with_pkce_alone(memory: MemoryStore, ann: Person) -> None:
    app = await add_client(memory, ann, public=True)
    code = await add_code(memory, app, ann)
    issued = await exchange_code(memory, app, code)
    assert issued.scopes == ("read",)


@pytest.mark.parametrize(
    "sent",
    [None, REDIRECT],
    ids=["omitting redirect_uri too", "naming the app's only redirect URI"],
)
async def test_a_code_requested_without_redirect_uri_is_exchanged(
    memory: MemoryStore, zapier: Client, ann: Person, sent: str | None
) -> None:
    code = await add_code(memory, zapier, ann, redirect_uri="")
    async with unit_of_work(memory) as store:
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
    memory: MemoryStore,
    zapier: Client,
    ann: Person,
    code_options: dict[str, object],
    overrides: dict[str, object],
    error: type[PacedError],
) -> None:
    client = zapier
    if overrides.get("public"):
        client = await add_client(memory, ann, public=True)
    code = await add_code(memory, client, ann, **code_options)  # type: ignore[arg-type]
    presenter = client
    if overrides.get("other_client"):
        presenter = await add_client(memory, ann, name="Other")
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
        async with unit_of_work(memory) as store:
            await authorization_codes.exchange(
                store, credentials, request, when, POLICY, origin=ORIGIN
            )

    # A refused exchange spends nothing: the code stays usable by its rightful client.
    assert memory.row("authorization_codes", digest=digest(code.code))["used_at"] is None
    assert memory.rows("access_tokens") == []
    assert memory.row("grants", id=code.grant_id)["revoked_at"] is None


async def test_a_code_of_a_revoked_grant_is_refused(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)
    async with unit_of_work(memory) as store:
        await store.revoke_grant(code.grant_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await exchange_code(memory, zapier, code)


async def test_a_second_exchange_fails_and_revokes_every_token_of_the_code(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)
    first = await exchange_code(memory, zapier, code)
    rotated = await refresh(memory, zapier, first.refresh_token, when=NOW + timedelta(minutes=1))

    with pytest.raises(InvalidGrant, match="already been used"):
        await exchange_code(memory, zapier, code, when=NOW + timedelta(minutes=2))

    # The revocation was committed although the request failed (RFC 6749 §4.1.2).
    revoked_at = NOW + timedelta(minutes=2)
    assert memory.row("grants", id=code.grant_id)["revoked_at"] == revoked_at
    tokens = memory.rows("access_tokens", grant_id=code.grant_id)
    tokens += memory.rows("refresh_tokens", grant_id=code.grant_id)
    assert len(tokens) == 4
    assert {token["revoked_at"] for token in tokens} == {revoked_at}
    with pytest.raises(InvalidGrant):
        await refresh(memory, zapier, rotated.refresh_token, when=NOW + timedelta(minutes=3))


async def test_an_exchange_that_loses_the_race_for_its_code_is_a_second_use(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)
    memory.lose_next("consume_code")  # a concurrent exchange spent it after our read
    with pytest.raises(InvalidGrant, match="already been used"):
        await exchange_code(memory, zapier, code)
    assert memory.row("grants", id=code.grant_id)["revoked_at"] == NOW
    assert memory.rows("access_tokens") == []


async def test_a_replay_leaves_other_approvals_of_the_same_app_alone(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    replayed, other = await add_code(memory, zapier, ann), await add_code(memory, zapier, ann)
    await exchange_code(memory, zapier, replayed)
    kept = await exchange_code(memory, zapier, other)
    with pytest.raises(InvalidGrant):
        await exchange_code(memory, zapier, replayed)
    assert memory.row("grants", id=other.grant_id)["revoked_at"] is None
    access = memory.row("access_tokens", digest=digest(kept.access_token))
    assert access["revoked_at"] is None


async def test_a_replay_by_another_client_revokes_nothing(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)
    await exchange_code(memory, zapier, code)
    stranger = await add_client(memory, ann, name="Stranger")
    with pytest.raises(InvalidGrant):
        await exchange_code(memory, stranger, code)
    assert memory.row("grants", id=code.grant_id)["revoked_at"] is None


async def test_a_code_ttl_shortened_after_issue_applies(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)  # issued to live ten minutes
    shorter = Policy(auth_code_ttl=timedelta(seconds=60))
    with pytest.raises(InvalidGrant, match="expired"):
        await exchange_code(memory, zapier, code, when=NOW + timedelta(seconds=60), policy=shorter)
