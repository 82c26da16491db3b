"""`/api/v1` through the app: every answer of docs/reference.md §5, for personal and OAuth tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from paced.core import token_format
from paced.core.records import User
from paced.storage.database import Database
from paced.storage.models import grants, personal_tokens
from tests.conftest import Clock
from tests.helpers import connect, listen_statements
from tests.token_rows import add_oauth_token, add_personal_token, add_user

REALM = 'Bearer realm="Paced Email"'
# RFC 9728 §5.1: every 401 names the API's protected resource metadata.
CHALLENGE = f'{REALM}, resource_metadata="http://testserver/.well-known/oauth-protected-resource"'


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


@pytest.fixture
async def user(app: FastAPI, clock: Clock) -> User:
    return await add_user(engine_of(app), clock())


async def personal_token(app: FastAPI, user: User, clock: Clock, **fields: object) -> str:
    issued = await add_personal_token(engine_of(app), user, clock(), **fields)  # type: ignore[arg-type]
    return issued.secret


async def me(client: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.get("/api/v1/me", headers=headers)


def assert_invalid_token(response: httpx.Response, description: str) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": description}
    assert response.headers["www-authenticate"] == (
        f'{CHALLENGE}, error="invalid_token", error_description="{description}"'
    )


async def test_a_personal_token_reads_its_users_account(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock)
    response = await me(client, f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": "ann@example.com",
        "name": "Ann",
        "time_zone": "UTC",
        "created_at": "2026-01-15T12:00:00Z",
        "updated_at": "2026-01-15T12:00:00Z",
    }
    assert response.headers["x-oauth-scopes"] == "read, write"
    assert response.headers["x-accepted-oauth-scopes"] == "read"
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "scheme", ["bearer", "BEARER", "Bearer"], ids=["lowercase", "uppercase", "as written"]
)
async def test_the_scheme_is_matched_case_insensitively(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock, scheme: str
) -> None:
    secret = await personal_token(app, user, clock)
    assert (await me(client, f"{scheme} {secret}")).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic YW5uQGV4YW1wbGUuY29tOnNlY3JldA==", "Token abc", ""],
    ids=["no Authorization header", "the Basic scheme", "another scheme", "an empty header"],
)
async def test_no_credentials_is_401_without_an_error_attribute(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    response = await me(client, authorization)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "unauthorized" and body["error_description"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer pt_secret_abc def"],
    ids=["Bearer alone", "Bearer and a space", "Bearer a b", "a space inside a token"],
)
async def test_a_malformed_header_is_400_invalid_request(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await me(client, authorization)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and body["error_description"]
    assert response.headers["www-authenticate"] == (
        f'{REALM}, error="invalid_request", error_description="{body["error_description"]}"'
    )


async def test_two_authorization_headers_are_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/me", headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def _change_last(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda: "garbage", "The access token is malformed."),
        (
            lambda: _change_last(token_format.generate("pt_secret_")),
            "The access token is malformed.",
        ),
        (lambda: token_format.generate("pt_secret_")[:-1], "The access token is malformed."),
        (lambda: token_format.generate("pt_refresh_"), "The access token is malformed."),
        (lambda: token_format.generate("pt_client_"), "The access token is malformed."),
        (lambda: token_format.generate("pt_secret_"), "The access token is not valid."),
        (lambda: token_format.generate("pt_oauth_"), "The access token is not valid."),
    ],
    ids=[
        "garbage",
        "a bad checksum",
        "a token one character short",
        "a refresh token",
        "a client secret",
        "an unknown personal token",
        "an unknown OAuth token",
    ],
)
async def test_bad_tokens_are_401_invalid_token(
    client: httpx.AsyncClient, app: FastAPI, make: Callable[[], str], description: str
) -> None:
    selects: list[str] = []
    database = app.paced.database
    for name in ("personal_bearer_token", "oauth_bearer_token"):

        async def spy(digest: str, send: Any = getattr(database, name), name: str = name) -> Any:
            selects.append(name)
            return await send(digest)

        setattr(database, name, spy)
    response = await me(client, f"Bearer {make()}")
    assert_invalid_token(response, description)
    # Only a well-formed token is looked up in the database.
    assert len(selects) == (1 if "not valid" in description else 0)


async def test_an_expired_personal_token_is_401(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock, expires_at=clock() + timedelta(days=7))
    clock.advance(days=7, seconds=-1)
    assert (await me(client, f"Bearer {secret}")).status_code == 200
    clock.advance(seconds=1)
    assert_invalid_token(await me(client, f"Bearer {secret}"), "The access token expired.")


async def test_revocation_on_the_page_is_honoured_by_the_very_next_request(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock)
    assert (await me(client, f"Bearer {secret}")).status_code == 200
    async with engine_of(app).unit_of_work() as store:
        (token,) = await store.personal_tokens_of(user.id)
        await store.revoke_personal_token(token.id, clock())
    assert_invalid_token(await me(client, f"Bearer {secret}"), "The access token was revoked.")


async def test_a_token_without_the_read_scope_is_403_insufficient_scope(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock, scopes=("write",))
    response = await me(client, f"Bearer {secret}")
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "insufficient_scope"
    assert response.headers["www-authenticate"] == (
        f'{REALM}, error="insufficient_scope", '
        f'error_description="{body["error_description"]}", scope="read"'
    )


async def test_a_read_only_token_says_what_it_holds(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock, scopes=("read",))
    response = await me(client, f"Bearer {secret}")
    assert response.headers["x-oauth-scopes"] == "read"


async def test_an_oauth_access_token_reads_its_users_account(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    made = await add_oauth_token(engine_of(app), user, clock(), scopes="read")
    response = await me(client, f"Bearer {made.secret}")
    assert response.status_code == 200
    assert response.json()["id"] == user.id
    assert response.headers["x-oauth-scopes"] == "read"


@pytest.mark.parametrize(
    ("fields", "advance", "description"),
    [
        ({}, timedelta(hours=2), "The access token expired."),
        ({"revoked": True}, timedelta(0), "The access token was revoked."),
        ({"grant_revoked": True}, timedelta(0), "The access token was revoked."),
    ],
    ids=["an expired OAuth token", "a revoked OAuth token", "a token of a revoked grant"],
)
async def test_dead_oauth_tokens_are_401(
    client: httpx.AsyncClient,
    app: FastAPI,
    user: User,
    clock: Clock,
    fields: dict[str, bool],
    advance: timedelta,
    description: str,
) -> None:
    made = await add_oauth_token(engine_of(app), user, clock(), **fields)
    clock.advance(seconds=advance.total_seconds())
    assert_invalid_token(await me(client, f"Bearer {made.secret}"), description)


async def test_an_oauth_token_with_only_write_is_403(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    made = await add_oauth_token(engine_of(app), user, clock(), scopes="write")
    response = await me(client, f"Bearer {made.secret}")
    assert response.status_code == 403
    assert 'scope="read"' in response.headers["www-authenticate"]


async def test_a_token_in_the_query_string_or_a_cookie_authenticates_nothing(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock)
    for params in ({"access_token": secret}, {"token": secret}):
        response = await client.get("/api/v1/me", params=params)
        assert response.status_code == 401 and response.headers["www-authenticate"] == CHALLENGE
    for name in ("access_token", "token", "Authorization", "paced_session"):
        client.cookies.set(name, secret)
        response = await client.get("/api/v1/me")
        assert response.status_code == 401 and response.headers["www-authenticate"] == CHALLENGE
        client.cookies.clear()


async def test_a_signed_in_browser_session_is_no_api_credential(
    client: httpx.AsyncClient,
) -> None:
    from tests.helpers import sign_up

    await sign_up(client)
    response = await client.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


async def test_last_use_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    secret = await personal_token(app, user, clock)
    oauth = await add_oauth_token(engine_of(app), user, clock())
    writes: list[str] = []
    listen_statements(
        engine_of(app),
        lambda sql, _values: (
            writes.append(sql) if sql.lstrip().upper().startswith("UPDATE") else None
        ),
    )

    async def last_used() -> tuple[object, object]:
        async with connect(engine_of(app)) as connection:
            token = (await connection.execute(select(personal_tokens.c.last_used_at))).scalar()
            grant = (await connection.execute(select(grants.c.last_used_at))).scalar()
        return token, grant

    assert await last_used() == (None, None)
    first = clock()
    for _ in range(3):
        assert (await me(client, f"Bearer {secret}")).status_code == 200
        assert (await me(client, f"Bearer {oauth.secret}")).status_code == 200
        clock.advance(seconds=20)
    assert len(writes) == 2  # one for the token, one for the grant, not six
    assert await last_used() == (first, first)
    # The clock now reads first + 60 s: a minute since the last write.
    assert (await me(client, f"Bearer {secret}")).status_code == 200
    assert (await me(client, f"Bearer {oauth.secret}")).status_code == 200
    assert len(writes) == 4
    assert await last_used() == (first + timedelta(minutes=1), first + timedelta(minutes=1))


async def test_unknown_api_paths_answer_in_the_api_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "error_description": "No endpoint at this path. The API is described at /openapi.json.",
    }
    response = await client.post("/api/v1/me")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


async def test_the_openapi_document_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    (name,) = [n for n, s in schemes.items() if s == {**s, "type": "http", "scheme": "bearer"}]
    operation = document["paths"]["/api/v1/me"]["get"]
    assert operation["security"] == [{name: []}]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    for status in ("400", "401", "403"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ApiError")
    assert set(document["components"]["schemas"]["Me"]["properties"]) == {
        "id",
        "email",
        "name",
        "time_zone",
        "created_at",
        "updated_at",
    }
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
