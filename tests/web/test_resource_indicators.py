"""Resource indicators (RFC 8707) over HTTP: a grant bound to the API at the authorization
request or the device authorization request, its tokens bound to it at the token
endpoint, refused for anything else, and named as `aud` by introspection."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from paced.core import token_format
from paced.core.ids import digest, random_base62
from paced.storage.models import apps, client_secrets
from tests.helpers import begin, sign_up
from tests.web.test_authorize import (
    CHALLENGE,
    REDIRECT,
    VERIFIER,
    Client,
    answer,
    authorize_url,
    decide,
    engine_of,
    register,
)
from tests.web.test_device import GRANT_TYPE
from tests.web.test_device import answer as answer_at_device

API = "http://testserver/api/v1"
ELSEWHERE = "https://other.example/api"


async def with_secret(app: FastAPI, client: Client) -> str:
    secret = token_format.generate(token_format.CLIENT_SECRET)
    async with begin(engine_of(app)) as connection:
        await connection.execute(
            client_secrets.insert().values(
                id=f"cs_{random_base62(24)}",
                app_id=client.app_id,
                digest=digest(secret),
                created_at=app.paced.clock(),
            )
        )
    return secret


def basic(client: Client, secret: str) -> dict[str, str]:
    pair = f"{client.client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def approved_code(http: httpx.AsyncClient, client: Client, **params: str) -> str:
    page = await http.get(
        authorize_url(client, code_challenge=CHALLENGE, code_challenge_method="S256", **params)
    )
    _, query = answer(await decide(http, page, "approve"))
    return query["code"]


@pytest.fixture
async def confidential(app: FastAPI) -> tuple[Client, str]:
    client = await register(app)
    return client, await with_secret(app, client)


async def exchange(
    http: httpx.AsyncClient, client: Client, secret: str, code: str, **extra: str
) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            **extra,
        },
        headers=basic(client, secret),
    )


async def introspect(
    http: httpx.AsyncClient, client: Client, secret: str, token: str
) -> dict[str, object]:
    response = await http.post(
        "/oauth/introspect", data={"token": token}, headers=basic(client, secret)
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    ("at_authorization", "at_token"),
    [(API, API), (API + "/", None), (None, API)],
    ids=[
        "named at both requests",
        "named at the authorization request with a trailing slash",
        "named at the token request only",
    ],
)
async def test_the_api_as_resource_gives_working_tokens(
    client: httpx.AsyncClient,
    app: FastAPI,
    confidential: tuple[Client, str],
    at_authorization: str | None,
    at_token: str | None,
) -> None:
    oauth, secret = confidential
    await sign_up(client)
    extra = {"resource": at_authorization} if at_authorization else {}
    code = await approved_code(client, oauth, **extra)
    response = await exchange(
        client, oauth, secret, code, **({"resource": at_token} if at_token else {})
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    described = await introspect(client, oauth, secret, tokens["access_token"])
    # The grant is bound when the authorization request named the API.
    assert described.get("aud") == (API if at_authorization else None)


async def test_an_authorization_request_for_another_resource_is_sent_back_invalid_target(
    client: httpx.AsyncClient, confidential: tuple[Client, str]
) -> None:
    oauth, _ = confidential
    await sign_up(client)
    response = await client.get(authorize_url(oauth, resource=ELSEWHERE))
    target, query = answer(response)
    assert target == REDIRECT
    assert query["error"] == "invalid_target"
    assert query["state"] == "st-123" and query["iss"] == "http://testserver"


async def test_a_token_request_for_another_resource_is_invalid_target_and_keeps_the_code(
    client: httpx.AsyncClient, confidential: tuple[Client, str]
) -> None:
    oauth, secret = confidential
    await sign_up(client)
    code = await approved_code(client, oauth, resource=API)
    refused = await exchange(client, oauth, secret, code, resource=ELSEWHERE)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_target"
    # The refusal spent nothing: the right request still works.
    assert (await exchange(client, oauth, secret, code, resource=API)).status_code == 200


async def test_a_refresh_for_another_resource_is_invalid_target(
    client: httpx.AsyncClient, confidential: tuple[Client, str]
) -> None:
    oauth, secret = confidential
    await sign_up(client)
    code = await approved_code(client, oauth, resource=API)
    tokens = (await exchange(client, oauth, secret, code)).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = await client.post(
        "/oauth/token", data={**refresh, "resource": ELSEWHERE}, headers=basic(oauth, secret)
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"
    renewed = await client.post(
        "/oauth/token", data={**refresh, "resource": API}, headers=basic(oauth, secret)
    )
    assert renewed.status_code == 200, renewed.text
    described = await introspect(client, oauth, secret, renewed.json()["access_token"])
    assert described["active"] is True and described["aud"] == API


# --- the device authorization grant (RFC 8628) ---------------------------------------------


@pytest.fixture
async def device(app: FastAPI, confidential: tuple[Client, str]) -> tuple[Client, str]:
    """A confidential app with the device flow on: introspection needs its secret."""
    client, secret = confidential
    async with begin(engine_of(app)) as connection:
        await connection.execute(
            update(apps).where(apps.c.id == client.app_id).values(device_flow=True)
        )
    return client, secret


async def start_device(
    http: httpx.AsyncClient, client: Client, secret: str, **extra: str
) -> httpx.Response:
    return await http.post("/oauth/device_authorization", data=extra, headers=basic(client, secret))


async def approved_device_code(
    http: httpx.AsyncClient, client: Client, secret: str, **extra: str
) -> str:
    started = await start_device(http, client, secret, **extra)
    assert started.status_code == 200, started.text
    body = started.json()
    assert (await answer_at_device(http, body["user_code"], "approve")).status_code == 303
    device_code: str = body["device_code"]
    return device_code


async def device_poll(
    http: httpx.AsyncClient, client: Client, secret: str, device_code: str, **extra: str
) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": GRANT_TYPE, "device_code": device_code, **extra},
        headers=basic(client, secret),
    )


@pytest.mark.parametrize(
    ("at_authorization", "at_token", "aud"),
    [(API, API, API), (API + "/", None, API), (None, API, None), (None, None, None)],
    ids=[
        "named at both requests",
        "named at the device authorization request with a trailing slash",
        "named at the token request only",
        "named nowhere",
    ],
)
async def test_a_device_authorization_for_the_api_gives_tokens_bound_to_it(
    client: httpx.AsyncClient,
    device: tuple[Client, str],
    at_authorization: str | None,
    at_token: str | None,
    aud: str | None,
) -> None:
    oauth, secret = device
    await sign_up(client)
    named = {"resource": at_authorization} if at_authorization else {}
    code = await approved_device_code(client, oauth, secret, scope="read", **named)
    issued = await device_poll(
        client, oauth, secret, code, **({"resource": at_token} if at_token else {})
    )
    assert issued.status_code == 200, issued.text
    tokens = issued.json()
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    described = await introspect(client, oauth, secret, tokens["access_token"])
    assert described["active"] is True
    assert described.get("aud") == aud
    # The refresh token belongs to the same grant, bound the same way.
    refreshed = await introspect(client, oauth, secret, tokens["refresh_token"])
    assert refreshed.get("aud") == aud


@pytest.mark.parametrize(
    "resources",
    [[ELSEWHERE], ["http://testserver/api"], [API, ELSEWHERE], [API, API]],
    ids=[
        "another server's resource",
        "another path of this server",
        "the API and another resource",
        "the API twice",
    ],
)
async def test_a_device_authorization_for_anything_but_the_api_once_is_invalid_target(
    client: httpx.AsyncClient, device: tuple[Client, str], resources: list[str]
) -> None:
    oauth, secret = device
    refused = await client.post(
        "/oauth/device_authorization",
        content=urlencode([("resource", resource) for resource in resources]),
        headers={**basic(oauth, secret), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 400
    assert refused.headers["cache-control"] == "no-store"
    body = refused.json()
    assert body["error"] == "invalid_target"
    assert ELSEWHERE not in body.get("error_description", "")


async def test_a_poll_for_another_resource_is_invalid_target_and_keeps_the_code(
    client: httpx.AsyncClient, device: tuple[Client, str]
) -> None:
    oauth, secret = device
    await sign_up(client)
    code = await approved_device_code(client, oauth, secret, resource=API)
    refused = await device_poll(client, oauth, secret, code, resource=ELSEWHERE)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_target"
    # The refusal spent nothing: the right request still works, bound to the API.
    issued = await device_poll(client, oauth, secret, code, resource=API)
    assert issued.status_code == 200, issued.text
    described = await introspect(client, oauth, secret, issued.json()["access_token"])
    assert described["aud"] == API
