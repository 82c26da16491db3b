"""Leaked credentials reported by anyone: revoked at once, owners told."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from paced.core import leaks, personal_tokens, registration, token_format
from paced.core.errors import InvalidRequest
from paced.core.ids import digest
from paced.core.security_log import ANONYMOUS
from paced.core.token_issuance import IssuedTokens
from tests.core.helpers import (
    NOW,
    Client,
    Person,
    add_code,
    exchange_code,
    refresh,
)
from tests.fakes import MemoryStore, unit_of_work
from tests.helpers import ORIGIN

LATER = NOW + timedelta(minutes=5)


async def personal_token(
    memory: MemoryStore, ann: Person, **fields: object
) -> personal_tokens.IssuedToken:
    async with unit_of_work(memory) as store:
        return await personal_tokens.create(
            store,
            ann.id,
            personal_tokens.NewToken(name="deploy script", **fields),  # type: ignore[arg-type]
            NOW,
            origin=ORIGIN,
        )


async def issued(memory: MemoryStore, client: Client, ann: Person) -> tuple[str, IssuedTokens]:
    code = await add_code(memory, client, ann)
    return code.grant_id, await exchange_code(memory, client, code)


async def report(memory: MemoryStore, *credentials: str) -> list[leaks.Revoked]:
    async with unit_of_work(memory) as store:
        return await leaks.revoke_leaked(store, credentials, LATER, ORIGIN)


async def leak_events(memory: MemoryStore, user_id: str) -> list[dict[str, Any]]:
    """The leak events of the account, each with its detail read."""
    return [
        {**event, "detail": json.loads(str(event["detail"]))}
        for event in memory.rows("security_events", user_id=user_id)
        if str(event["event"]).endswith("_leaked")
    ]


async def test_a_leaked_personal_token_is_revoked_and_its_owner_told(
    memory: MemoryStore, ann: Person
) -> None:
    token = await personal_token(memory, ann)
    found = await report(memory, token.secret)
    assert [r.kind for r in found] == ["personal_token"]
    assert memory.row("personal_tokens", id=token.token.id)["revoked_at"] == LATER
    (event,) = await leak_events(memory, ann.id)
    assert event["event"] == "credential_leaked"
    assert event["actor"] == ANONYMOUS
    assert event["ip"] == ORIGIN.ip
    assert event["detail"] == {
        "kind": "personal_token",
        "hint": token_format.hint(token.secret),
        "id": token.token.id,
        "name": "deploy script",
        "app_id": None,
    }


async def test_a_leaked_access_token_is_revoked_alone(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    grant_id, tokens = await issued(memory, zapier, ann)
    found = await report(memory, tokens.access_token)
    assert [r.kind for r in found] == ["oauth_access_token"]
    access = memory.row("access_tokens", digest=digest(tokens.access_token))
    assert access["revoked_at"] == LATER
    assert memory.row("grants", id=grant_id)["revoked_at"] is None
    # As after RFC 7009 revocation of an access token, the integration refreshes on.
    await refresh(memory, zapier, tokens.refresh_token, when=LATER)
    (event,) = await leak_events(memory, ann.id)
    assert event["detail"]["hint"] == token_format.hint(tokens.access_token)
    assert event["detail"]["app_id"] == zapier.app_id


@pytest.mark.parametrize("rotated", [False, True], ids=["the current one", "a replaced one"])
async def test_a_leaked_refresh_token_ends_its_whole_grant(
    memory: MemoryStore, zapier: Client, ann: Person, rotated: bool
) -> None:
    grant_id, first = await issued(memory, zapier, ann)
    second = await refresh(memory, zapier, first.refresh_token, when=NOW + timedelta(minutes=1))
    leaked = first.refresh_token if rotated else second.refresh_token
    found = await report(memory, leaked)
    assert [r.kind for r in found] == ["oauth_grant"]
    assert memory.row("grants", id=grant_id)["revoked_at"] == LATER
    family = memory.rows("access_tokens", grant_id=grant_id)
    assert [token["revoked_at"] for token in family] == [LATER, LATER]


async def test_a_leaked_client_secret_is_kept_and_its_owner_told(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    assert zapier.secret is not None
    found = await report(memory, zapier.secret)
    assert [(r.kind, r.name) for r in found] == [("client_secret", "Zapier")]
    assert len(memory.rows("client_secrets", app_id=zapier.app_id)) == 1
    (event,) = await leak_events(memory, ann.id)
    assert event["event"] == "client_secret_leaked"
    assert event["detail"]["hint"] == token_format.hint(zapier.secret)
    assert zapier.secret not in json.dumps(event["detail"])


async def test_what_is_not_live_is_passed_over_without_a_word(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    revoked = await personal_token(memory, ann)
    async with unit_of_work(memory) as store:
        await personal_tokens.revoke(store, revoked.token.id, NOW, owner_id=None, origin=ORIGIN)
    expired = await personal_token(memory, ann, expires_at=NOW + timedelta(minutes=1))
    _, tokens = await issued(memory, zapier, ann)
    await report(memory, tokens.refresh_token)  # the grant ends
    found = await report(
        memory,
        revoked.secret,
        expired.secret,
        tokens.access_token,
        tokens.refresh_token,
        token_format.generate(token_format.PERSONAL),  # unknown
    )
    assert found == []
    assert len(await leak_events(memory, ann.id)) == 1  # the first report's only


async def test_the_same_token_twice_in_a_report_is_told_once(
    memory: MemoryStore, ann: Person
) -> None:
    token = await personal_token(memory, ann)
    found = await report(
        memory,
        *leaks.parse_report(f'{{"credentials": ["{token.secret}", "{token.secret}"]}}'.encode()),
    )
    assert len(found) == 1
    assert len(await leak_events(memory, ann.id)) == 1


async def test_malformed_values_are_skipped_without_a_lookup(
    memory: MemoryStore, ann: Person
) -> None:
    genuine = token_format.generate(token_format.PERSONAL)
    mangled = [
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),  # the checksum fails
        genuine[:12] + ("x" if genuine[12] != "x" else "y") + genuine[13:],  # a typo
        genuine + "0",  # too long
        "pt_oauth_" + "!" * 36,  # outside the alphabet
        "ghp_" + "a" * 36,  # somebody else's
        "",
        "x" * 100_000,
    ]
    memory.calls.clear()
    found = await report(memory, *mangled)
    assert found == []
    assert memory.calls == []
    await report(memory, genuine)  # well formed, so looked up (and unknown)
    assert memory.calls


async def test_the_owner_is_mailed_the_hint_of_each_revoked_credential(
    memory: MemoryStore, ann: Person
) -> None:
    token = await personal_token(memory, ann)
    await report(memory, token.secret)
    queued = memory.rows("mail_queue", kind="credential_leaked")
    assert len(queued) == 1
    assert queued[0]["user_id"] == ann.id
    detail = json.loads(str(queued[0]["detail"]))
    assert detail["hint"] == token_format.hint(token.secret)
    assert token.secret not in str(detail)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"pt_secret_"',
        b"{}",
        b'{"credentials": "pt_secret_x"}',
        b'{"credentials": [1]}',
        b'{"credentials": [null]}',
        b'{"credentials": [["pt_secret_x"]]}',
        ('{"credentials": [' + ",".join(['"x"'] * 1001) + "]}").encode(),
    ],
    ids=[
        "not JSON",
        "not text",
        "a list, not an object",
        "a string, not an object",
        "no credentials",
        "credentials not a list",
        "a number",
        "a null",
        "a nested list",
        "more than a thousand",
    ],
)
def test_a_malformed_report_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        leaks.parse_report(body)


def test_a_thousand_credentials_are_accepted() -> None:
    body = '{"credentials": [' + ",".join(f'"v{i}"' for i in range(1000)) + "]}"
    assert len(leaks.parse_report(body.encode())) == 1000


async def test_a_leaked_secret_of_a_client_that_registered_itself_is_deleted(
    memory: MemoryStore,
) -> None:
    """Such a client has no owner to rotate its secret or to tell: the secret goes, and
    the client registers again."""
    async with unit_of_work(memory) as store:
        registered = await registration.register(
            store, {"redirect_uris": ["https://agent.example/cb"]}, NOW, origin=ORIGIN
        )
    assert registered.client_secret is not None
    assert await report(memory, registered.client_secret) == []
    assert memory.rows("client_secrets", app_id=registered.app.id) == []
