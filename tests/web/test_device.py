"""The device authorization grant over HTTP (RFC 8628): `POST /oauth/device_authorization`,
the `/device` pages a person uses, and polling at `/oauth/token`."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


async def register(client: httpx.AsyncClient, *, device_flow: bool = True) -> str:
    """A public app registered on the Developer settings page; its client id."""
    fields: dict[str, Any] = {"name": "Paced CLI", "redirect_uris": "http://127.0.0.1/cb"}
    fields["client_type"] = "public"
    if device_flow:
        fields["device_flow"] = "on"
    registered = await submit(client, "/settings/developer/applications/new", **fields)
    assert registered.status_code == 303, registered.text
    page = (await client.get(registered.headers["location"])).text
    found = re.search(r'id="client-id" type="text" value="(\w+)"', page)
    assert found
    assert ticked(page) == device_flow
    return found.group(1)


def ticked(page: str) -> bool:
    """Whether the app page's `Enable device flow` box is ticked."""
    box = re.search(r'<input type="checkbox" name="device_flow"[^>]*>', page)
    assert box, "the page has no Enable device flow box"
    return " checked" in box.group(0)


async def start(client: httpx.AsyncClient, client_id: str, **extra: str) -> dict[str, Any]:
    response = await client.post(
        "/oauth/device_authorization", data={"client_id": client_id, **extra}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def poll(client: httpx.AsyncClient, client_id: str, device_code: str) -> httpx.Response:
    data = {"grant_type": GRANT_TYPE, "device_code": device_code, "client_id": client_id}
    return await client.post("/oauth/token", data=data)


async def answer(client: httpx.AsyncClient, user_code: str, decision: str) -> httpx.Response:
    """Type the code at /device, then click Authorize or Deny on the consent screen."""
    screen = await submit(client, "/device", user_code=user_code)
    assert screen.status_code == 200, screen.text
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', screen.text))
    data = {name: html.unescape(value) for name, value in hidden.items()}
    return await client.post("/device/decision", data={**data, "decision": decision})


@pytest.fixture
async def client_id(client: httpx.AsyncClient) -> str:
    await sign_up(client)
    return await register(client)


async def test_a_device_gets_tokens_once_a_person_approves(
    client: httpx.AsyncClient, client_id: str, clock: Clock
) -> None:
    body = await start(client, client_id, scope="read write")
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert CODE.match(body["user_code"])
    assert body["verification_uri"] == "http://testserver/device"
    assert (
        body["verification_uri_complete"]
        == f"http://testserver/device?user_code={body['user_code']}"
    )
    assert (body["expires_in"], body["interval"]) == (900, 5)

    pending = await poll(client, client_id, body["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"

    # The complete URI fills the code in; the person still confirms it.
    entry = await client.get(body["verification_uri_complete"].removeprefix("http://testserver"))
    assert entry.status_code == 200
    assert f'value="{body["user_code"]}"' in entry.text
    assert entry.headers["cache-control"] == "no-store"
    assert entry.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in entry.headers["content-security-policy"]

    screen = await submit(client, "/device", user_code=body["user_code"].lower().replace("-", ""))
    assert screen.status_code == 200
    assert "Authorize <bdi>Paced CLI</bdi>" in screen.text
    assert body["user_code"] in screen.text
    assert ">Deny</button>" in screen.text and ">Authorize</button>" in screen.text
    assert "Read your account data" in screen.text and "Change your account data" in screen.text
    assert screen.headers["cache-control"] == "no-store"

    decided = await answer(client, body["user_code"], "approve")
    assert decided.status_code == 303
    assert decided.headers["location"] == "/device/done?result=approved"
    done = await client.get(decided.headers["location"])
    assert "You can return to your device" in done.text

    clock.advance(seconds=5)
    issued = await poll(client, client_id, body["device_code"])
    assert issued.status_code == 200, issued.text
    tokens = issued.json()
    assert tokens["scope"] == "read write" and tokens["token_type"] == "bearer"
    assert issued.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["email"] == "ann@example.com"
    # The device's access is listed, and can be revoked, like any application's.
    assert "Paced CLI" in (await client.get("/settings/authorized-applications")).text

    clock.advance(seconds=5)
    again = await poll(client, client_id, body["device_code"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_a_denial_reaches_the_device_as_access_denied(
    client: httpx.AsyncClient, client_id: str
) -> None:
    body = await start(client, client_id)
    decided = await answer(client, body["user_code"], "deny")
    assert decided.headers["location"] == "/device/done?result=denied"
    assert "did not get access" in (await client.get(decided.headers["location"])).text
    denied = await poll(client, client_id, body["device_code"])
    assert (denied.status_code, denied.json()["error"]) == (400, "access_denied")


async def test_polling_too_fast_is_slow_down(client: httpx.AsyncClient, client_id: str) -> None:
    body = await start(client, client_id)
    assert (await poll(client, client_id, body["device_code"])).json()["error"] == (
        "authorization_pending"
    )
    fast = await poll(client, client_id, body["device_code"])
    assert (fast.status_code, fast.json()["error"]) == (400, "slow_down")


async def test_an_expired_code_is_expired_token(
    client: httpx.AsyncClient, client_id: str, clock: Clock
) -> None:
    body = await start(client, client_id)
    clock.advance(seconds=900)
    expired = await poll(client, client_id, body["device_code"])
    assert (expired.status_code, expired.json()["error"]) == (400, "expired_token")
    typed = await submit(client, "/device", user_code=body["user_code"])
    assert typed.status_code == 400 and "has expired" in typed.text


async def test_an_app_without_the_device_flow_is_unauthorized_client(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    plain = await register(client, device_flow=False)
    refused = await client.post("/oauth/device_authorization", data={"client_id": plain})
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "error"),
    [
        ({"json": {"client_id": "x"}}, 400, "invalid_request"),
        ({"data": {"client_id": "nobody"}}, 401, "invalid_client"),
        ({"data": {"other": "x"}}, 401, "invalid_client"),
        ({"data": {"scope": "admin"}}, 400, "invalid_scope"),
        ({"data": {"scope": ["read", "write"]}}, 400, "invalid_request"),
    ],
    ids=[
        "a JSON body is invalid_request",
        "an unknown client is invalid_client",
        "no client is invalid_client",
        "an unknown scope is invalid_scope",
        "a repeated scope is invalid_request",
    ],
)
async def test_bad_device_authorization_requests(
    client: httpx.AsyncClient,
    client_id: str,
    request_kwargs: dict[str, Any],
    status: int,
    error: str,
) -> None:
    if "data" in request_kwargs and "scope" in request_kwargs["data"]:
        request_kwargs = {"data": {**request_kwargs["data"], "client_id": client_id}}
    refused = await client.post("/oauth/device_authorization", **request_kwargs)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"] == error


async def test_a_signed_out_person_logs_in_and_comes_back_with_the_code(
    app: Any, client: httpx.AsyncClient, client_id: str
) -> None:
    body = await start(client, client_id)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as stranger:
        sent = await stranger.get(f"/device?user_code={body['user_code']}")
        assert sent.status_code == 303
        assert sent.headers["location"] == (
            f"/login?next=/device%3Fuser_code%3D{body['user_code']}"
        )
        login = await submit(
            stranger,
            sent.headers["location"],
            "/login",
            email="ann@example.com",
            password="correct horse battery",
            next=f"/device?user_code={body['user_code']}",
        )
        assert login.headers["location"] == f"/device?user_code={body['user_code']}"
        back = await stranger.get(login.headers["location"])
        assert f'value="{body["user_code"]}"' in back.text


async def test_the_forms_need_their_csrf_token(client: httpx.AsyncClient, client_id: str) -> None:
    body = await start(client, client_id)
    forged = await client.post("/device", data={"user_code": body["user_code"]})
    assert forged.status_code == 403
    forged = await client.post(
        "/device/decision", data={"user_code": body["user_code"], "decision": "approve"}
    )
    assert forged.status_code == 403
    assert (await poll(client, client_id, body["device_code"])).json()["error"] == (
        "authorization_pending"
    )


async def test_ten_wrong_codes_then_a_clear_429(client: httpx.AsyncClient, client_id: str) -> None:
    body = await start(client, client_id)
    for _ in range(10):
        wrong = await submit(client, "/device", user_code="BCDF-GHJK")
        assert wrong.status_code == 400
        assert "That code is not valid" in wrong.text
    limited = await submit(client, "/device", user_code=body["user_code"])
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many wrong codes" in limited.text
    # The decision form is held to the same limit.
    page = await client.get("/device")
    decided = await client.post(
        "/device/decision",
        data={
            "csrf_token": csrf_token(page.text),
            "user_code": body["user_code"],
            "decision": "approve",
        },
    )
    assert decided.status_code == 429


async def test_right_codes_do_not_count_towards_the_limit(
    client: httpx.AsyncClient, client_id: str
) -> None:
    for _ in range(12):
        body = await start(client, client_id)
        assert (await submit(client, "/device", user_code=body["user_code"])).status_code == 200


async def test_the_metadata_names_the_endpoint_and_the_grant(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["device_authorization_endpoint"] == (
        "http://testserver/oauth/device_authorization"
    )
    assert GRANT_TYPE in metadata["grant_types_supported"]


async def test_the_owner_turns_the_device_flow_off_on_the_app_page(
    client: httpx.AsyncClient, client_id: str
) -> None:
    listing = (await client.get("/settings/developer")).text
    app_id = re.search(r"/settings/developer/applications/(app_\w+)", listing)
    assert app_id
    page = f"/settings/developer/applications/{app_id.group(1)}"
    fields = {"name": "Paced CLI", "redirect_uris": "http://127.0.0.1/cb"}
    saved = await submit(client, page, **fields)  # the box left unticked
    assert saved.status_code == 303
    assert not ticked((await client.get(page)).text)
    refused = await client.post("/oauth/device_authorization", data={"client_id": client_id})
    assert refused.json()["error"] == "unauthorized_client"
    saved = await submit(client, page, **fields, device_flow="on")
    assert saved.status_code == 303
    assert ticked((await client.get(page)).text)
    await start(client, client_id)
