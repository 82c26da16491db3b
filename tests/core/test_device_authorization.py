"""The device authorization grant (RFC 8628) in the core, on every database, with time
moved by hand: issuing the codes, the person's answer, and the polls at the token
endpoint, from `authorization_pending` to the one token pair."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

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
    PacedError,
    SlowDown,
    UnauthorizedClient,
)
from paced.core.ids import digest
from paced.core.records import User
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
    add_user,
    form_request,
    row,
    rows,
)

SECOND = timedelta(seconds=1)


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
async def cli(engine: AsyncEngine, ann: Person) -> Client:
    """A public client, as a command-line tool is, with the device flow enabled."""
    return await add_client(engine, ann, public=True, device_flow=True)


async def start(
    engine: AsyncEngine, client: Client, scope: str | None = None, when: datetime = NOW
) -> DeviceAuthorization:
    params = client.form() | ({"scope": scope} if scope is not None else {})
    async with unit_of_work(engine) as store:
        return await device_authorization.authorize_device(
            store, form_request(params), when, POLICY
        )


async def poll(
    engine: AsyncEngine, client: Client, device_code: str, when: datetime
) -> IssuedTokens:
    """A poll as the token endpoint reads it, form and all."""
    params = client.form() | {"grant_type": device_grant.GRANT_TYPE, "device_code": device_code}
    async with unit_of_work(engine) as store:
        return await token_endpoint.token(store, form_request(params), when, POLICY)


async def user(engine: AsyncEngine, person: Person) -> User:
    async with reading(engine) as store:
        found = await store.user_by_id(person.id)
    assert found is not None
    return found


async def approve(engine: AsyncEngine, person: Person, typed: str, when: datetime = NOW) -> None:
    who = await user(engine, person)
    async with unit_of_work(engine) as store:
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
    engine: AsyncEngine, cli: Client
) -> None:
    started = await start(engine, cli, "read write")
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
    stored = await row(engine, "device_codes", digest=digest(started.device_code))
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
    engine: AsyncEngine, cli: Client, params: dict[str, str], error: type[PacedError]
) -> None:
    async with unit_of_work(engine) as store:
        with pytest.raises(error):
            await device_authorization.authorize_device(
                store, form_request(cli.form() | params), NOW, POLICY
            )


async def test_an_app_without_the_device_flow_is_an_unauthorized_client(
    engine: AsyncEngine, ann: Person
) -> None:
    plain = await add_client(engine, ann, public=True)
    with pytest.raises(UnauthorizedClient):
        await start(engine, plain)


async def test_a_confidential_client_must_prove_its_secret(
    engine: AsyncEngine, ann: Person
) -> None:
    server = await add_client(engine, ann, device_flow=True)
    started = await start(engine, server)
    without_secret = Client(server.app_id, server.client_id, None)
    with pytest.raises(InvalidClient):
        await start(engine, without_secret)
    with pytest.raises(InvalidClient):
        await poll(engine, without_secret, started.device_code, NOW)
    with pytest.raises(AuthorizationPending):
        await poll(engine, server, started.device_code, NOW)


async def test_from_pending_to_one_token_pair(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli, "read write")
    with pytest.raises(AuthorizationPending):
        await poll(engine, cli, started.device_code, NOW)
    await approve(engine, ann, started.user_code.lower(), NOW + 7 * SECOND)
    issued = await poll(engine, cli, started.device_code, NOW + 10 * SECOND)
    assert issued.scopes == ("read", "write")
    access = await row(engine, "access_tokens", digest=digest(issued.access_token))
    grant = await row(engine, "grants", id=access["grant_id"])
    assert (grant["user_id"], grant["app_id"], grant["redirect_uri"]) == (ann.id, cli.app_id, None)
    # Exactly once.
    with pytest.raises(InvalidGrant, match="already been used"):
        await poll(engine, cli, started.device_code, NOW + 20 * SECOND)


async def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows(
    engine: AsyncEngine, cli: Client
) -> None:
    code = (await start(engine, cli)).device_code
    with pytest.raises(AuthorizationPending):
        await poll(engine, cli, code, NOW)
    with pytest.raises(SlowDown, match="10 seconds"):
        await poll(engine, cli, code, NOW + 4 * SECOND)
    # The interval is now 10 seconds, counted from the poll that was too soon.
    with pytest.raises(SlowDown, match="15 seconds"):
        await poll(engine, cli, code, NOW + 13 * SECOND)
    with pytest.raises(AuthorizationPending):
        await poll(engine, cli, code, NOW + 28 * SECOND)
    with pytest.raises(SlowDown):
        await poll(engine, cli, code, NOW + 42 * SECOND)
    stored = await row(engine, "device_codes", digest=digest(code))
    assert stored["poll_interval"] == 20


async def test_a_denial_is_access_denied(engine: AsyncEngine, cli: Client) -> None:
    started = await start(engine, cli)
    async with unit_of_work(engine) as store:
        await device_approval.deny(store, started.user_code, NOW)
    with pytest.raises(DeviceAccessDenied):
        await poll(engine, cli, started.device_code, NOW + 5 * SECOND)
    # A denied code cannot be approved afterwards.
    with pytest.raises(WrongUserCode):
        await approve(engine, await add_user(engine, "bob@example.com"), started.user_code)


async def test_an_expired_code_is_expired_token_and_cannot_be_approved(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    later = NOW + POLICY.device_code_ttl
    with pytest.raises(WrongUserCode) as wrong:
        await approve(engine, ann, started.user_code, later)
    assert "expired" in wrong.value.fields["user_code"]
    with pytest.raises(ExpiredToken):
        await poll(engine, cli, started.device_code, later)


async def test_an_approved_code_unredeemed_until_it_expires_is_expired_token(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    await approve(engine, ann, started.user_code)
    with pytest.raises(ExpiredToken):
        await poll(engine, cli, started.device_code, NOW + POLICY.device_code_ttl)


async def test_a_device_code_is_bound_to_its_client(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    other = await add_client(engine, ann, public=True, device_flow=True, name="Other")
    started = await start(engine, cli)
    await approve(engine, ann, started.user_code)
    with pytest.raises(InvalidGrant, match="invalid"):
        await poll(engine, other, started.device_code, NOW + 5 * SECOND)
    with pytest.raises(InvalidGrant):
        await poll(engine, cli, "not-a-device-code", NOW + 5 * SECOND)
    # The rightful client still gets its tokens.
    assert (await poll(engine, cli, started.device_code, NOW + 5 * SECOND)).access_token


async def test_a_poll_without_a_device_code_is_invalid_request(
    engine: AsyncEngine, cli: Client
) -> None:
    params = cli.form() | {"grant_type": device_grant.GRANT_TYPE}
    async with unit_of_work(engine) as store:
        with pytest.raises(InvalidRequest):
            await token_endpoint.token(store, form_request(params), NOW, POLICY)


async def test_turning_the_device_flow_off_stops_codes_already_issued(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    async with unit_of_work(engine) as store:
        app = await store.app_by_client_id(cli.client_id)
        assert app is not None
        await store.update_app(replace(app, device_flow=False))
    with pytest.raises(WrongUserCode):
        await approve(engine, ann, started.user_code)
    with pytest.raises(UnauthorizedClient):
        await poll(engine, cli, started.device_code, NOW)


async def test_a_revoked_grant_gives_no_tokens(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    await approve(engine, ann, started.user_code)
    async with unit_of_work(engine) as store:
        await store.revoke_user_app_grants(ann.id, cli.app_id, NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        await poll(engine, cli, started.device_code, NOW + 5 * SECOND)


@pytest.mark.parametrize(
    "typed", ["BCDF-GHJK", "nonsense", ""], ids=["an unknown code", "garbage", "nothing"]
)
async def test_a_wrong_user_code_finds_nothing(
    engine: AsyncEngine, cli: Client, typed: str
) -> None:
    await start(engine, cli)
    async with reading(engine) as store:
        with pytest.raises(WrongUserCode):
            await device_approval.find(store, typed, NOW)


async def test_concurrent_polls_of_an_approved_code_get_one_token_pair(
    engine: AsyncEngine, cli: Client, ann: Person
) -> None:
    started = await start(engine, cli)
    await approve(engine, ann, started.user_code)
    results = await asyncio.gather(
        *(poll(engine, cli, started.device_code, NOW + 5 * SECOND) for _ in range(8)),
        return_exceptions=True,
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
    issued = await poll(engine, cli, started.device_code, NOW + 5 * SECOND)
    access = await row(engine, "access_tokens", digest=digest(issued.access_token))
    stored = await row(engine, "device_codes", digest=digest(started.device_code))
    assert access["grant_id"] == stored["grant_id"]
