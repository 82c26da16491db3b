"""Token introspection (RFC 7662): everything about a live token of the caller's, and
nothing at all about anything else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paced.core import introspection, token_format
from paced.core.errors import InvalidClient, InvalidRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from tests.core.helpers import (
    NOW,
    POLICY,
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


async def introspect(
    memory: MemoryStore,
    client: Client,
    token: str,
    *,
    when: object = LATER,
    policy: Policy = POLICY,
) -> dict[str, object]:
    async with unit_of_work(memory) as store:
        result = await introspection.introspect(
            store,
            form_request({"token": token, **client.form()}),
            when,  # type: ignore[arg-type]
            policy,
        )
    return result.body()


async def test_a_live_access_token(memory: MemoryStore, zapier: Client, ann: Person) -> None:
    pair = await exchange_code(
        memory, zapier, await add_code(memory, zapier, ann, scopes="read write")
    )
    assert await introspect(memory, zapier, pair.access_token) == {
        "active": True,
        "scope": "read write",
        "client_id": zapier.client_id,
        "username": "ann@example.com",
        "sub": ann.id,
        "token_type": "bearer",
        "exp": int((NOW + timedelta(hours=2)).timestamp()),
        "iat": int(NOW.timestamp()),
    }


async def test_a_live_refresh_token_that_never_expires_has_no_exp(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    pair = await exchange_code(memory, zapier, await add_code(memory, zapier, ann))
    assert await introspect(memory, zapier, pair.refresh_token) == {
        "active": True,
        "scope": "read",
        "client_id": zapier.client_id,
        "username": "ann@example.com",
        "sub": ann.id,
        "token_type": "refresh_token",
        "iat": int(NOW.timestamp()),
    }


async def test_a_refresh_token_with_a_lifetime_has_its_exp(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    policy = Policy(refresh_token_ttl=timedelta(days=30))
    pair = await exchange_code(memory, zapier, await add_code(memory, zapier, ann), policy=policy)
    body = await introspect(memory, zapier, pair.refresh_token, policy=policy)
    assert body["exp"] == int((NOW + timedelta(days=30)).timestamp())


async def test_an_access_token_of_a_narrowed_refresh_has_the_narrow_scope(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    pair = await exchange_code(
        memory, zapier, await add_code(memory, zapier, ann, scopes="read write")
    )
    narrow = await refresh(memory, zapier, pair.refresh_token, when=NOW, scope="read")
    assert (await introspect(memory, zapier, narrow.access_token))["scope"] == "read"


INACTIVE = [
    "a malformed token",
    "an unknown access token",
    "a personal access token",
    "an expired access token",
    "a revoked access token",
    "a replaced refresh token",
    "an expired refresh token",
    "a token of a revoked grant",
    "another client's token",
]


@pytest.mark.parametrize("case", INACTIVE, ids=INACTIVE)
async def test_anything_else_is_only_inactive(
    memory: MemoryStore, zapier: Client, ann: Person, case: str
) -> None:
    code = await add_code(memory, zapier, ann)
    pair = await exchange_code(memory, zapier, code)
    caller, token, when, policy = zapier, pair.access_token, LATER, POLICY
    if case == "a malformed token":
        token = "pt_oauth_123"
    elif case == "an unknown access token":
        token = token_format.generate("pt_oauth_")
    elif case == "a personal access token":
        token = token_format.generate("pt_secret_")
    elif case == "an expired access token":
        when = NOW + POLICY.access_token_ttl
    elif case == "a revoked access token":
        async with unit_of_work(memory) as store:
            await store.revoke_access_token(
                (await store.access_token_by_digest(digest(token))).id,  # type: ignore[union-attr]
                NOW,
            )
    elif case == "a replaced refresh token":
        await refresh(memory, zapier, pair.refresh_token, when=NOW)
        token = pair.refresh_token
    elif case == "an expired refresh token":
        token, policy = pair.refresh_token, Policy(refresh_token_max_age=timedelta(minutes=5))
    elif case == "a token of a revoked grant":
        async with unit_of_work(memory) as store:
            await store.revoke_grant(code.grant_id, NOW)
    elif case == "another client's token":
        caller = await add_client(memory, ann, name="Stranger")
    assert await introspect(memory, caller, token, when=when, policy=policy) == {"active": False}


async def test_a_public_client_may_not_introspect(memory: MemoryStore, ann: Person) -> None:
    app = await add_client(memory, ann, public=True)
    pair = await exchange_code(memory, app, await add_code(memory, app, ann))
    with pytest.raises(InvalidClient):
        await introspect(memory, app, pair.access_token)


async def test_a_wrong_secret_is_invalid_client(memory: MemoryStore, zapier: Client) -> None:
    impostor = Client(zapier.app_id, zapier.client_id, token_format.generate("pt_client_"))
    with pytest.raises(InvalidClient):
        await introspect(memory, impostor, token_format.generate("pt_oauth_"))


async def test_no_token_is_invalid_request(memory: MemoryStore, zapier: Client) -> None:
    with pytest.raises(InvalidRequest):
        await introspect(memory, zapier, "")
