"""Resource indicators (RFC 8707) over HTTP: a grant bound to the API at the authorization
request, its tokens bound to it at the token endpoint, refused for anything else, and
named as `aud` by introspection."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI

from paced.core import token_format
from paced.core.ids import digest, random_base62
from paced.storage.models import client_secrets
from tests.helpers import sign_up
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

API = "http://testserver/api/v1"
ELSEWHERE = "https://other.example/api"


async def with_secret(app: FastAPI, client: Client) -> str:
    secret = token_format.generate(token_format.CLIENT_SECRET)
    async with engine_of(app).begin() as connection:
        await connection.execute(
            client_secrets.insert().values(
                id=f"cs_{random_base62(24)}",
                app_id=client.app_id,
                digest=digest(secret),
                created_at=app.state.paced.clock(),
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
