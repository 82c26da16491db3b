"""`POST /oauth/token` over HTTP: docs/reference.md §6's body and headers, RFC 6749 §5.2's errors, and
single use under concurrent requests."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import quote_plus

import httpx
import pytest
from fastapi import FastAPI

from paced.core import token_format
from paced.storage.database import Database
from tests.conftest import Clock
from tests.oauth_helpers import (
    NOW,
    REDIRECT,
    VERIFIER,
    Client,
    Code,
    Person,
    add_client,
    add_code,
    add_user,
    row,
)


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


@pytest.fixture
async def ann(app: FastAPI) -> Person:
    return await add_user(engine_of(app))


@pytest.fixture
async def zapier(app: FastAPI, ann: Person) -> Client:
    return await add_client(engine_of(app), ann)


@pytest.fixture
async def code(app: FastAPI, zapier: Client, ann: Person) -> Code:
    return await add_code(engine_of(app), zapier, ann, scopes="read write")


def basic(client_id: str, secret: str) -> str:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def exchange_form(code: Code, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **extra,
    }


async def test_a_code_exchange_answers_as_spec_section_6_says(
    client: httpx.AsyncClient, zapier: Client, code: Code
) -> None:
    response = await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert list(body) == [
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    ]
    assert token_format.is_well_formed(body["access_token"], "pt_oauth_")
    assert token_format.is_well_formed(body["refresh_token"], "pt_refresh_")
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("bearer", 7200, "read write")
    assert body["created_at"] == int(NOW.timestamp())


async def test_the_access_token_opens_the_api_and_a_replay_closes_it(
    client: httpx.AsyncClient, zapier: Client, code: Code, clock: Clock
) -> None:
    tokens = (await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ann@example.com"
    assert me.headers["x-oauth-scopes"] == "read, write"

    clock.advance(seconds=30)
    replay = await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            **zapier.form(),
        },
    )
    assert refreshed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "with_body_client_id", [False, True], ids=["Basic alone", "Basic with client_id in the body"]
)
async def test_client_secret_basic(
    client: httpx.AsyncClient, zapier: Client, code: Code, with_body_client_id: bool
) -> None:
    extra = {"client_id": zapier.client_id} if with_body_client_id else {}
    response = await client.post(
        "/oauth/token",
        data=exchange_form(code, **extra),
        headers={"Authorization": basic(zapier.client_id, zapier.secret or "")},
    )
    assert response.status_code == 200, response.text


async def test_a_public_client_with_pkce(
    app: FastAPI, client: httpx.AsyncClient, ann: Person
) -> None:
    public = await add_client(engine_of(app), ann, public=True)
    code = await add_code(engine_of(app), public, ann)
    response = await client.post(
        "/oauth/token", data=exchange_form(code, client_id=public.client_id)
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read"


async def test_a_refresh_rotates_and_a_reuse_revokes_the_grant(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, code: Code, clock: Clock
) -> None:
    first = (await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    clock.advance(hours=3)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": "read",
            **zapier.form(),
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["scope"] == "read"
    assert second["created_at"] == int(clock.now.timestamp())
    assert second["refresh_token"] != first["refresh_token"]
    bearer = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200

    reuse = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            **zapier.form(),
        },
    )
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await row(engine_of(app), "grants", id=code.grant_id))["revoked_at"] == clock.now


async def test_an_expired_access_token_stops_working(
    client: httpx.AsyncClient, zapier: Client, code: Code, clock: Clock
) -> None:
    tokens = (await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    clock.advance(seconds=7199)
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    clock.advance(seconds=1)
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401


ERRORS = [
    (
        "a JSON body",
        {"json": {"grant_type": "authorization_code"}},
        400,
        "invalid_request",
    ),
    (
        "a repeated parameter",
        {"content": "grant_type=refresh_token&grant_type=refresh_token&client_id={id}"},
        400,
        "invalid_request",
    ),
    (
        "credentials in the query string",
        {"query": "client_id={id}", "data": {"grant_type": "refresh_token"}},
        400,
        "invalid_request",
    ),
    (
        "Basic and a secret in the body at once",
        {"basic": True, "data": {"grant_type": "refresh_token", "client_secret": "{secret}"}},
        400,
        "invalid_request",
    ),
    (
        "the password grant",
        {"data": {"grant_type": "password", "client_id": "{id}", "client_secret": "{secret}"}},
        400,
        "unsupported_grant_type",
    ),
    (
        "an unknown code",
        {
            "data": {
                "grant_type": "authorization_code",
                "code": "nope",
                "client_id": "{id}",
                "client_secret": "{secret}",
            }
        },
        400,
        "invalid_grant",
    ),
    (
        "a scope beyond the grant",
        {
            "data": {
                "grant_type": "refresh_token",
                "refresh_token": "{refresh}",
                "scope": "admin",
                "client_id": "{id}",
                "client_secret": "{secret}",
            }
        },
        400,
        "invalid_scope",
    ),
    (
        "a wrong client secret in the body",
        {"data": {"grant_type": "refresh_token", "client_id": "{id}", "client_secret": "{wrong}"}},
        401,
        "invalid_client",
    ),
    (
        "a wrong client secret with Basic",
        {"basic_wrong": True, "data": {"grant_type": "refresh_token"}},
        401,
        "invalid_client",
    ),
    (
        "an unknown client",
        {"data": {"grant_type": "refresh_token", "client_id": "nobody"}},
        401,
        "invalid_client",
    ),
]


@pytest.mark.parametrize(
    ("request_parts", "status", "error"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
async def test_errors_are_rfc_6749_json(
    client: httpx.AsyncClient,
    zapier: Client,
    code: Code,
    request_parts: dict[str, object],
    status: int,
    error: str,
) -> None:
    tokens = (await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    values = {
        "id": zapier.client_id,
        "secret": zapier.secret or "",
        "wrong": token_format.generate("pt_client_"),
        "refresh": tokens["refresh_token"],
    }
    headers: dict[str, str] = {}
    if request_parts.get("basic"):
        headers["Authorization"] = basic(zapier.client_id, values["secret"])
    if request_parts.get("basic_wrong"):
        headers["Authorization"] = basic(zapier.client_id, values["wrong"])
    url = "/oauth/token"
    if "query" in request_parts:
        url += "?" + str(request_parts["query"]).format(**values)
    kwargs: dict[str, object] = {}
    if "data" in request_parts:
        data = request_parts["data"]
        assert isinstance(data, dict)
        kwargs["data"] = {name: text.format(**values) for name, text in data.items()}
    if "content" in request_parts:
        kwargs["content"] = str(request_parts["content"]).format(**values)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if "json" in request_parts:
        kwargs["json"] = request_parts["json"]

    response = await client.post(url, headers=headers, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    if error == "invalid_client":
        assert response.headers["www-authenticate"].startswith("Basic")
    # No secret is ever echoed in an error.
    assert values["secret"] not in response.text and values["refresh"] not in response.text


async def test_the_token_endpoint_is_post_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/oauth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


async def test_sixteen_parallel_http_exchanges_of_one_code_have_one_winner(
    client: httpx.AsyncClient, zapier: Client, code: Code
) -> None:
    responses = await asyncio.gather(
        *(client.post("/oauth/token", data=exchange_form(code, **zapier.form())) for _ in range(16))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * 15
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}


async def test_sixteen_parallel_http_refreshes_have_one_winner(
    client: httpx.AsyncClient, zapier: Client, code: Code
) -> None:
    tokens = (await client.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        **zapier.form(),
    }
    responses = await asyncio.gather(*(client.post("/oauth/token", data=form) for _ in range(16)))
    assert sorted(response.status_code for response in responses) == [200] + [400] * 15
