"""The device authorization grant (RFC 8628) in the core, with time moved by hand: issuing
the codes, the person's answer, and the polls at the token endpoint, from
`authorization_pending` to the one token pair (polls and answers racing on a real
database: tests/storage/test_token_races.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from paced.core import device_approval, device_authorization, device_grant, token_endpoint
from paced.core.device_approval import WrongUserCode
from paced.core.device_authorization import DeviceAuthorization
from paced.core.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    PacedError,
    SlowDown,
    UnauthorizedClient,
)
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import User
from paced.core.token_issuance import IssuedTokens
from tests.core.helpers import (
    NOW,
    POLICY,
    Client,
    Person,
    add_client,
    add_user,
    form_request,
)
from tests.fakes import MemoryStore, reading, unit_of_work
from tests.helpers import ORIGIN

SECOND = timedelta(seconds=1)


@pytest.fixture
async def cli(memory: MemoryStore, ann: Person) -> Client:
    """A public client, as a command-line tool is, with the device flow enabled."""
    return await add_client(memory, ann, public=True, device_flow=True)


async def start(
    memory: MemoryStore,
    client: Client,
    scope: str | None = None,
    when: datetime = NOW,
    *,
    policy: Policy = POLICY,
    **extra: str,
) -> DeviceAuthorization:
    params = client.form() | ({"scope": scope} if scope is not None else {}) | extra
    async with unit_of_work(memory) as store:
        return await device_authorization.authorize_device(
            store, form_request(params), when, policy
        )


async def poll(
    memory: MemoryStore,
    client: Client,
    device_code: str,
    when: datetime,
    *,
    policy: Policy = POLICY,
    **extra: str,
) -> IssuedTokens:
    """A poll as the token endpoint reads it, form and all."""
    params = client.form() | {"grant_type": device_grant.GRANT_TYPE, "device_code": device_code}
    async with unit_of_work(memory) as store:
        return await token_endpoint.token(store, form_request(params | extra), when, policy)


async def user(memory: MemoryStore, person: Person) -> User:
    async with reading(memory) as store:
        found = await store.user_by_id(person.id)
    assert found is not None
    return found


async def approve(memory: MemoryStore, person: Person, typed: str, when: datetime = NOW) -> None:
    who = await user(memory, person)
    async with unit_of_work(memory) as store:
        await device_approval.approve(store, typed, who, when, origin=ORIGIN)


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("BDFH-KLMN", "BDFHKLMN"),
        ("bdfh-klmn", "BDFHKLMN"),
        ("bdfhklmn", "BDFHKLMN"),
        (" BDFH KLMN ", "BDFHKLMN"),
        ("B-D-F-H-K-L-M-N", "BDFHKLMN"),
        ("BDFH-KLM", None),
        ("BDFH-KLMNP", None),
        ("BAFH-KLMN", None),  # a vowel is never in a code
        ("BDFH-KLM0", None),
        ("", None),
        ("B" * 41, None),
    ],
    ids=[
        "as shown",
        "in lower case",
        "without the dash",
        "with spaces",
        "with dashes anywhere",
        "one letter short",
        "one letter long",
        "with a vowel",
        "with a digit",
        "empty",
        "far too long",
    ],
)
def test_a_typed_user_code_is_read_case_and_dash_insensitively(
    typed: str, normalized: str | None
) -> None:
    assert device_authorization.normalized_user_code(typed) == normalized


def test_user_codes_are_eight_consonants_shown_in_two_halves() -> None:
    codes = {device_authorization.new_user_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch("[BCDFGHJKLMNPQRSTVWXZ]{8}", code)
    assert device_authorization.shown_user_code("BDFHKLMN") == "BDFH-KLMN"


async def test_the_device_authorization_response_and_what_is_stored(
    memory: MemoryStore, cli: Client
) -> None:
    started = await start(memory, cli, "read write")
    body = started.body("https://paced.example")
    shown = body["user_code"]
    assert isinstance(shown, str) and re.fullmatch(
        "[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", shown
    )
    assert body == {
        "device_code": started.device_code,
        "user_code": shown,
        "verification_uri": "https://paced.example/device",
        "verification_uri_complete": f"https://paced.example/device?user_code={shown}",
        "expires_in": 900,
        "interval": 5,
    }
    assert len(started.device_code) >= 43  # 256 bits
    stored = memory.row("device_codes", digest=digest(started.device_code))
    # Only digests: neither code is stored as itself.
    assert started.device_code not in stored.values()
    assert started.user_code not in str(stored.values())
    assert stored["scopes"] == "read write"
    assert stored["expires_at"] == NOW + timedelta(seconds=900)
    assert stored["poll_interval"] == 5


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "admin"}, InvalidScope),
        ({"client_id": "nobody"}, InvalidClient),
    ],
    ids=["an unknown scope is invalid_scope", "an unknown client is invalid_client"],
)
async def test_a_bad_device_authorization_request_is_refused(
    memory: MemoryStore, cli: Client, params: dict[str, str], error: type[PacedError]
) -> None:
    async with unit_of_work(memory) as store:
        with pytest.raises(error):
            await device_authorization.authorize_device(
                store, form_request(cli.form() | params), NOW, POLICY
            )


async def test_an_app_without_the_device_flow_is_an_unauthorized_client(
    memory: MemoryStore, ann: Person
) -> None:
    plain = await add_client(memory, ann, public=True)
    with pytest.raises(UnauthorizedClient):
        await start(memory, plain)


async def test_a_confidential_client_must_prove_its_secret(
    memory: MemoryStore, ann: Person
) -> None:
    server = await add_client(memory, ann, device_flow=True)
    started = await start(memory, server)
    without_secret = Client(server.app_id, server.client_id, None)
    with pytest.raises(InvalidClient):
        await start(memory, without_secret)
    with pytest.raises(InvalidClient):
        await poll(memory, without_secret, started.device_code, NOW)
    with pytest.raises(AuthorizationPending):
        await poll(memory, server, started.device_code, NOW)


async def test_from_pending_to_one_token_pair(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli, "read write")
    with pytest.raises(AuthorizationPending):
        await poll(memory, cli, started.device_code, NOW)
    await approve(memory, ann, started.user_code.lower(), NOW + 7 * SECOND)
    issued = await poll(memory, cli, started.device_code, NOW + 10 * SECOND)
    assert issued.scopes == ("read", "write")
    access = memory.row("access_tokens", digest=digest(issued.access_token))
    grant = memory.row("grants", id=access["grant_id"])
    assert (grant["user_id"], grant["app_id"], grant["redirect_uri"]) == (ann.id, cli.app_id, None)
    # Exactly once.
    with pytest.raises(InvalidGrant, match="already been used"):
        await poll(memory, cli, started.device_code, NOW + 20 * SECOND)


async def test_a_poll_that_loses_the_race_to_redeem_gets_nothing(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli)
    await approve(memory, ann, started.user_code)
    memory.lose_next("consume_device_code")  # a concurrent poll redeemed it first
    with pytest.raises(InvalidGrant, match="already been used"):
        await poll(memory, cli, started.device_code, NOW + 5 * SECOND)
    assert memory.rows("access_tokens") == []


async def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows(
    memory: MemoryStore, cli: Client
) -> None:
    code = (await start(memory, cli)).device_code
    with pytest.raises(AuthorizationPending):
        await poll(memory, cli, code, NOW)
    with pytest.raises(SlowDown, match="10 seconds"):
        await poll(memory, cli, code, NOW + 4 * SECOND)
    # The interval is now 10 seconds, counted from the poll that was too soon.
    with pytest.raises(SlowDown, match="15 seconds"):
        await poll(memory, cli, code, NOW + 13 * SECOND)
    with pytest.raises(AuthorizationPending):
        await poll(memory, cli, code, NOW + 28 * SECOND)
    with pytest.raises(SlowDown):
        await poll(memory, cli, code, NOW + 42 * SECOND)
    stored = memory.row("device_codes", digest=digest(code))
    assert stored["poll_interval"] == 20


async def test_a_denial_is_access_denied(memory: MemoryStore, cli: Client) -> None:
    started = await start(memory, cli)
    async with unit_of_work(memory) as store:
        await device_approval.deny(store, started.user_code, NOW)
    with pytest.raises(DeviceAccessDenied):
        await poll(memory, cli, started.device_code, NOW + 5 * SECOND)
    # A denied code cannot be approved afterwards.
    with pytest.raises(WrongUserCode):
        await approve(memory, await add_user(memory, "bob@example.com"), started.user_code)


async def test_an_expired_code_is_expired_token_and_cannot_be_approved(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli)
    later = NOW + POLICY.device_code_ttl
    with pytest.raises(WrongUserCode) as wrong:
        await approve(memory, ann, started.user_code, later)
    assert "expired" in wrong.value.fields["user_code"]
    with pytest.raises(ExpiredToken):
        await poll(memory, cli, started.device_code, later)


async def test_an_approved_code_unredeemed_until_it_expires_is_expired_token(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli)
    await approve(memory, ann, started.user_code)
    with pytest.raises(ExpiredToken):
        await poll(memory, cli, started.device_code, NOW + POLICY.device_code_ttl)


async def test_a_device_code_is_bound_to_its_client(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    other = await add_client(memory, ann, public=True, device_flow=True, name="Other")
    started = await start(memory, cli)
    await approve(memory, ann, started.user_code)
    with pytest.raises(InvalidGrant, match="invalid"):
        await poll(memory, other, started.device_code, NOW + 5 * SECOND)
    with pytest.raises(InvalidGrant):
        await poll(memory, cli, "not-a-device-code", NOW + 5 * SECOND)
    # The rightful client still gets its tokens.
    assert (await poll(memory, cli, started.device_code, NOW + 5 * SECOND)).access_token


async def test_a_poll_without_a_device_code_is_invalid_request(
    memory: MemoryStore, cli: Client
) -> None:
    params = cli.form() | {"grant_type": device_grant.GRANT_TYPE}
    async with unit_of_work(memory) as store:
        with pytest.raises(InvalidRequest):
            await token_endpoint.token(store, form_request(params), NOW, POLICY)


async def test_turning_the_device_flow_off_stops_codes_already_issued(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli)
    async with unit_of_work(memory) as store:
        app = await store.app_by_client_id(cli.client_id)
        assert app is not None
        await store.update_app(replace(app, device_flow=False))
    with pytest.raises(WrongUserCode):
        await approve(memory, ann, started.user_code)
    with pytest.raises(UnauthorizedClient):
        await poll(memory, cli, started.device_code, NOW)


async def test_a_revoked_grant_gives_no_tokens(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli)
    await approve(memory, ann, started.user_code)
    async with unit_of_work(memory) as store:
        await store.revoke_user_app_grants(ann.id, cli.app_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await poll(memory, cli, started.device_code, NOW + 5 * SECOND)


@pytest.mark.parametrize(
    "typed", ["BCDF-GHJK", "nonsense", ""], ids=["an unknown code", "garbage", "nothing"]
)
async def test_a_wrong_user_code_finds_nothing(
    memory: MemoryStore, cli: Client, typed: str
) -> None:
    await start(memory, cli)
    async with reading(memory) as store:
        with pytest.raises(WrongUserCode):
            await device_approval.find(store, typed, NOW)


# --- RFC 8707: resource indicators -------------------------------------------------------

ISSUER = "https://paced.example"
API = ISSUER + "/api/v1"
AT_ISSUER = replace(POLICY, issuer=ISSUER)


async def test_a_device_authorization_for_the_api_binds_the_grant_and_its_tokens(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    # A trailing slash is tolerated; the canonical form is what is stored.
    started = await start(memory, cli, policy=AT_ISSUER, resource=API + "/")
    stored = memory.row("device_codes", digest=digest(started.device_code))
    assert stored["resource"] == API
    with pytest.raises(AuthorizationPending):
        await poll(memory, cli, started.device_code, NOW, policy=AT_ISSUER, resource=API)
    await approve(memory, ann, started.user_code, NOW + SECOND)
    issued = await poll(
        memory, cli, started.device_code, NOW + 5 * SECOND, policy=AT_ISSUER, resource=API
    )
    access = memory.row("access_tokens", digest=digest(issued.access_token))
    grant = memory.row("grants", id=access["grant_id"])
    assert grant["resource"] == API


async def test_a_device_authorization_without_a_resource_binds_nothing(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli, policy=AT_ISSUER)
    assert memory.row("device_codes", digest=digest(started.device_code))["resource"] is None
    await approve(memory, ann, started.user_code)
    # As at the code exchange: naming the API at the token request alone is accepted
    # and binds nothing, since the authorization did not.
    issued = await poll(memory, cli, started.device_code, NOW, policy=AT_ISSUER, resource=API)
    access = memory.row("access_tokens", digest=digest(issued.access_token))
    assert memory.row("grants", id=access["grant_id"])["resource"] is None


@pytest.mark.parametrize(
    "body",
    [
        "resource=https%3A%2F%2Fother.example%2Fapi",
        "resource=https%3A%2F%2Fpaced.example%2Fapi",
        "resource=https%3A%2F%2Fpaced.example%2Fapi%2Fv1%23top",
        "resource=https%3A%2F%2Fpaced.example%2Fapi%2Fv1&resource=https%3A%2F%2Fother.example",
        "resource=https%3A%2F%2Fpaced.example%2Fapi%2Fv1&resource=https%3A%2F%2Fpaced.example%2Fapi%2Fv1",
    ],
    ids=[
        "another server's resource",
        "another path of this server",
        "the API with a fragment",
        "the API and another resource",
        "the API twice",
    ],
)
async def test_a_device_authorization_for_anything_but_the_api_once_is_invalid_target(
    memory: MemoryStore, cli: Client, body: str
) -> None:
    request = form_request(cli.form())
    request = replace(request, body=request.body + b"&" + body.encode())
    async with unit_of_work(memory) as store:
        with pytest.raises(InvalidTarget):
            await device_authorization.authorize_device(store, request, NOW, AT_ISSUER)
    assert memory.rows("device_codes") == []


async def test_a_poll_for_another_resource_is_invalid_target_and_spends_nothing(
    memory: MemoryStore, cli: Client, ann: Person
) -> None:
    started = await start(memory, cli, policy=AT_ISSUER, resource=API)
    elsewhere = "https://other.example/api"
    # Before the person answers: refused at once, whatever the answer will be.
    with pytest.raises(InvalidTarget):
        await poll(memory, cli, started.device_code, NOW, policy=AT_ISSUER, resource=elsewhere)
    await approve(memory, ann, started.user_code)
    with pytest.raises(InvalidTarget):
        await poll(memory, cli, started.device_code, NOW, policy=AT_ISSUER, resource=elsewhere)
    assert memory.rows("access_tokens") == []
    # The code is still good for the resource it was approved for.
    issued = await poll(memory, cli, started.device_code, NOW, policy=AT_ISSUER)
    access = memory.row("access_tokens", digest=digest(issued.access_token))
    assert memory.row("grants", id=access["grant_id"])["resource"] == API
