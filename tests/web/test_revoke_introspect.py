"""`POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662) over HTTP."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI

from paced.core import token_format
from paced.storage.database import Database
from tests.oauth_helpers import REDIRECT, VERIFIER, Client, Person, add_client, add_code, add_user


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


@pytest.fixture
async def ann(app: FastAPI) -> Person:
    return await add_user(engine_of(app))


@pytest.fixture
async def zapier(app: FastAPI, ann: Person) -> Client:
    return await add_client(engine_of(app), ann)


async def tokens_for(
    app: FastAPI, http: httpx.AsyncClient, client: Client, ann: Person
) -> dict[str, str]:
    code = await add_code(engine_of(app), client, ann)
    form = {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **client.form(),
    }
    response = await http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def me(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- revocation -----------------------------------------------------------------------


async def test_revoking_the_refresh_token_ends_the_access_token_too(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    response = await client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"{zapier.client_id}:{zapier.secret}".encode()).decode()
        },
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get("/api/v1/me", headers=me(tokens["access_token"]))).status_code == 401


async def test_revoking_the_access_token_keeps_the_refresh_token(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    response = await client.post(
        "/oauth/revoke", data={"token": tokens["access_token"], **zapier.form()}
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=me(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            **zapier.form(),
        },
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    "token",
    ["garbage", token_format.generate("pt_oauth_"), token_format.generate("pt_secret_")],
    ids=["a malformed token", "an unknown token", "a personal access token"],
)
async def test_revoking_what_is_not_the_clients_is_a_quiet_200(
    client: httpx.AsyncClient, zapier: Client, token: str
) -> None:
    response = await client.post("/oauth/revoke", data={"token": token, **zapier.form()})
    assert (response.status_code, response.content) == (200, b"")


async def test_revoking_another_clients_token_is_a_quiet_200_that_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    stranger = await add_client(engine_of(app), ann, name="Stranger")
    response = await client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], **stranger.form()}
    )
    assert (response.status_code, response.content) == (200, b"")
    assert (await client.get("/api/v1/me", headers=me(tokens["access_token"]))).status_code == 200


async def test_a_public_client_revokes_by_client_id(
    app: FastAPI, client: httpx.AsyncClient, ann: Person
) -> None:
    public = await add_client(engine_of(app), ann, public=True)
    tokens = await tokens_for(app, client, public, ann)
    response = await client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": public.client_id}
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=me(tokens["access_token"]))).status_code == 401


@pytest.mark.parametrize(
    ("path", "data", "status", "error"),
    [
        ("/oauth/revoke", {}, 400, "invalid_request"),
        ("/oauth/revoke", {"token": "x", "client_secret": "{wrong}"}, 401, "invalid_client"),
        ("/oauth/introspect", {}, 400, "invalid_request"),
        ("/oauth/introspect", {"token": "x", "client_secret": "{wrong}"}, 401, "invalid_client"),
    ],
    ids=[
        "revoke without a token",
        "revoke with a wrong secret",
        "introspect without a token",
        "introspect with a wrong secret",
    ],
)
async def test_refused_requests(
    client: httpx.AsyncClient,
    zapier: Client,
    path: str,
    data: dict[str, str],
    status: int,
    error: str,
) -> None:
    wrong = token_format.generate("pt_client_")
    form = {**zapier.form(), **{name: text.format(wrong=wrong) for name, text in data.items()}}
    response = await client.post(path, data=form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
async def test_a_json_body_is_invalid_request(
    client: httpx.AsyncClient, zapier: Client, path: str
) -> None:
    response = await client.post(path, json={"token": "x", **zapier.form()})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


# --- introspection --------------------------------------------------------------------


async def test_introspecting_a_live_access_token(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    response = await client.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"], "token_type_hint": "access_token", **zapier.form()},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert (body["client_id"], body["username"], body["sub"]) == (
        zapier.client_id,
        "ann@example.com",
        ann.id,
    )
    assert (body["token_type"], body["scope"]) == ("bearer", "read")
    assert body["exp"] - body["iat"] == 7200


async def test_introspecting_a_refresh_token(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    response = await client.post(
        "/oauth/introspect", data={"token": tokens["refresh_token"], **zapier.form()}
    )
    body = response.json()
    assert (body["active"], body["token_type"]) == (True, "refresh_token")
    assert "exp" not in body


async def test_introspecting_anything_else_says_only_inactive(
    app: FastAPI, client: httpx.AsyncClient, zapier: Client, ann: Person
) -> None:
    tokens = await tokens_for(app, client, zapier, ann)
    stranger = await add_client(engine_of(app), ann, name="Stranger")
    for caller, token in [
        (stranger, tokens["access_token"]),
        (zapier, token_format.generate("pt_secret_")),
        (zapier, "garbage"),
    ]:
        response = await client.post("/oauth/introspect", data={"token": token, **caller.form()})
        assert response.status_code == 200
        assert response.json() == {"active": False}


async def test_a_public_client_may_not_introspect(
    app: FastAPI, client: httpx.AsyncClient, ann: Person
) -> None:
    public = await add_client(engine_of(app), ann, public=True)
    tokens = await tokens_for(app, client, public, ann)
    response = await client.post(
        "/oauth/introspect", data={"token": tokens["access_token"], **public.form()}
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
