"""`POST /oauth/register` (RFC 7591) over HTTP: what it registers, what it refuses and how,
the operator's switch, the rate limit, and the consent screen such a client meets."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from paced.core import pkce
from paced.settings import Settings
from paced.storage.models import apps
from tests.conftest import Clock
from tests.helpers import app_client, connect, sign_up
from tests.web.test_authorize import answer, decide, engine_of

LOOPBACK = "http://127.0.0.1:3030/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = pkce.challenge_of(VERIFIER)


async def register(http: httpx.AsyncClient, **metadata: Any) -> httpx.Response:
    body = {"redirect_uris": [LOOPBACK], "client_name": "Claude Desktop", **metadata}
    return await http.post("/oauth/register", json=body)


async def test_a_public_client_registers_and_gets_an_id_without_a_secret(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    response = await register(client, token_endpoint_auth_method="none", scope="read write")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert len(body.pop("client_id")) == 32
    assert body == {
        "client_id_issued_at": int(clock().timestamp()),
        "client_secret_expires_at": 0,
        "client_name": "Claude Desktop",
        "redirect_uris": [LOOPBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


async def test_a_confidential_client_gets_a_secret_and_is_stored_without_an_owner(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await register(
        client,
        redirect_uris=["https://agent.example/cb"],
        client_uri="https://agent.example",
        grant_types=["authorization_code"],
        application_type="web",  # unknown to us: ignored (RFC 7591 §2)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_secret"].startswith("pt_client_")
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["grant_types"] == ["authorization_code"]
    assert body["client_uri"] == "https://agent.example"
    async with connect(engine_of(app)) as connection:
        (row,) = (
            await connection.execute(
                select(apps.c.owner_id, apps.c.registration, apps.c.public).where(
                    apps.c.client_id == body["client_id"]
                )
            )
        ).all()
    assert tuple(row) == (None, "dynamic", False)


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://a.example/cb"}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://a.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://*.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://user@a.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["com.example.app:/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [f"https://a.example/{n}" for n in range(11)]}, "invalid_redirect_uri"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
        (
            {
                "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
                "response_types": ["code"],
            },
            "invalid_client_metadata",
        ),
        (
            {"grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "implicit"]},
            "invalid_client_metadata",
        ),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "admin"}, "invalid_client_metadata"),
        ({"client_name": "x" * 101}, "invalid_client_metadata"),
        ({"client_name": "Evil\u202eppA"}, "invalid_client_metadata"),
        ({"client_name": 7}, "invalid_client_metadata"),
        ({"client_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        ({"logo_uri": "data:image/png;base64,AAAA"}, "invalid_client_metadata"),
    ],
    ids=[
        "no redirect URI",
        "redirect_uris not an array",
        "plain http off loopback",
        "a fragment",
        "a wildcard",
        "userinfo",
        "a javascript URI",
        "a private-use scheme for a confidential client",
        "eleven redirect URIs",
        "an auth method we do not offer",
        "a grant we do not offer",
        "refresh without the code grant",
        "the device grant with a response type",
        "the device grant with a grant we do not offer",
        "the implicit response type",
        "an unknown scope",
        "a long name",
        "a bidirectional override in the name",
        "a name that is not a string",
        "a javascript client_uri",
        "a data logo_uri",
    ],
)
async def test_metadata_that_developer_settings_would_refuse_is_a_clear_400(
    client: httpx.AsyncClient, metadata: dict[str, Any], error: str
) -> None:
    response = await register(client, **metadata)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == error and body["error_description"]
    assert set(body) == {"error", "error_description"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"[1, 2]"),
        ("application/json", b"{not json"),
        ("application/json", b"\xff\xfe"),
        ("application/x-www-form-urlencoded", b"redirect_uris=https://a.example/cb"),
        ("application/json", json.dumps({"redirect_uris": ["https://a\u0000.example/"]}).encode()),
        ("application/json", b"[" * 30000 + b"]" * 30000),
    ],
    ids=["an array", "broken JSON", "not UTF-8", "a form", "a NUL in a URI", "deep nesting"],
)
async def test_a_body_that_is_not_a_json_object_of_metadata_is_a_clear_400(
    client: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    response = await client.post(
        "/oauth/register", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


async def test_the_operator_can_turn_registration_off(settings: Settings) -> None:
    async with app_client(settings.model_copy(update={"dynamic_registration": "off"})) as http:
        response = await register(http)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_an_address_registers_at_most_so_many_clients(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_registration_per_ip": "3/hour"})
    async with app_client(limited) as http:
        statuses = [(await register(http)).status_code for _ in range(3)]
        refused = await register(http)
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0


async def test_the_default_limit_is_twenty_an_hour(client: httpx.AsyncClient) -> None:
    statuses = [(await register(client)).status_code for _ in range(21)]
    assert statuses == [201] * 20 + [429]


def authorize(client_id: str, **extra: str) -> str:
    from urllib.parse import urlencode

    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": LOOPBACK,
        "state": "s1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(params)


async def test_a_registered_client_is_shown_as_unreviewed_and_always_asks(
    client: httpx.AsyncClient,
) -> None:
    registered = (
        await register(
            client,
            redirect_uris=["https://agent.example/cb"],
            token_endpoint_auth_method="none",
        )
    ).json()
    await sign_up(client)
    url = authorize(registered["client_id"]).replace(
        "http%3A%2F%2F127.0.0.1%3A3030%2Fcallback", "https%3A%2F%2Fagent.example%2Fcb"
    )
    for _ in range(2):
        page = await client.get(url)
        # The screen is shown every time, although the user approved before and the
        # redirect is https: nobody vouches for the client.
        assert page.status_code == 200, page.text
        assert "registered itself, not reviewed by anyone" in page.text
        assert "Claude Desktop" in page.text and "agent.example" in page.text
        assert "an application by" not in page.text
        target, query = answer(await decide(client, page, "approve"))
        assert target == "https://agent.example/cb" and query["code"]


DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


async def test_a_command_line_tool_registers_for_the_device_grant_without_a_redirect_uri(
    client: httpx.AsyncClient,
) -> None:
    """A CLI on a headless machine receives no redirect: it registers for the device grant
    alone, and may then start one (RFC 7591 §2, RFC 8628)."""
    response = await client.post(
        "/oauth/register",
        json={
            "client_name": "paced-cli",
            "grant_types": [DEVICE_CODE, "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["redirect_uris"] == [] and body["response_types"] == []
    assert body["grant_types"] == [DEVICE_CODE, "refresh_token"]
    started = await client.post(
        "/oauth/device_authorization", data={"client_id": body["client_id"], "scope": "read"}
    )
    assert started.status_code == 200, started.text
    assert set(started.json()) >= {"device_code", "user_code", "verification_uri"}


async def test_a_client_registered_for_codes_alone_cannot_start_the_device_grant(
    client: httpx.AsyncClient,
) -> None:
    registered = (await register(client, token_endpoint_auth_method="none")).json()
    started = await client.post(
        "/oauth/device_authorization", data={"client_id": registered["client_id"]}
    )
    assert started.status_code == 400
    assert started.json()["error"] == "unauthorized_client"
