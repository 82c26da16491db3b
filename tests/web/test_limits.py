"""Input limits (paced.web.limits, docs/operations.md): bodies over the cap are refused
with 413 in the endpoint's shape, without reading past the cap; long and repeated
parameters are 4xx with the endpoint's error shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.helpers import csrf_token, sign_up
from tests.oauth_helpers import REDIRECT, add_client, add_code, add_user

CAP = 64 * 1024
JSON_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/api/v1/me"]


async def call(
    app: FastAPI, method: str, path: str, chunks: list[bytes], *, declared: int | None = None
) -> tuple[int, dict[str, str], bytes, int]:
    """Drive the app over raw ASGI: (status, headers, body, body chunks it read)."""
    headers = [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": True}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], answer, body, read


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
async def test_a_declared_body_over_the_cap_is_refused_before_a_byte_is_read(
    app: FastAPI, path: str
) -> None:
    status, headers, body, read = await call(app, "POST", path, [b"x" * 1000], declared=CAP + 1)
    assert (status, read) == (413, 0)
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert b'"error":"invalid_request"' in body
    assert b"at most 64 KB" in body


@pytest.mark.parametrize("path", ["/login", "/signup", "/oauth/authorize"])
async def test_a_page_refuses_a_declared_body_over_the_cap_with_an_error_page(
    app: FastAPI, path: str
) -> None:
    status, headers, body, read = await call(app, "POST", path, [b"x"], declared=10**9)
    assert (status, read) == (413, 0)
    assert headers["content-type"].startswith("text/html")
    assert b"Request too large" in body


@pytest.mark.parametrize("path", ["/login", "/oauth/revoke"])
async def test_an_undeclared_body_is_read_only_up_to_the_cap(app: FastAPI, path: str) -> None:
    chunks = [b"a=" + b"x" * 10_000] * 100  # a megabyte, chunked, with no Content-Length
    status, headers, _, read = await call(app, "POST", path, chunks)
    assert status in (400, 413)
    # The token endpoints stop at their own, smaller bound (16 KB: invalid_request).
    assert read <= 7
    if status == 413:
        assert headers["connection"] == "close"


async def test_a_body_under_the_cap_goes_through(app: FastAPI) -> None:
    status, _, body, _ = await call(app, "POST", "/login", [b"email=a" + b"x" * 60_000])
    assert status == 403  # the CSRF check answered: the body was read
    assert b"This form has expired" in body


# --- parameters -----------------------------------------------------------------------------


@pytest.fixture
async def confidential(app: FastAPI) -> Any:
    engine = app.paced.database
    ann = await add_user(engine)
    client = await add_client(engine, ann)
    return client, await add_code(engine, client, ann)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/oauth/token", {"grant_type": "authorization_code", "code": "c" * 3000}),
        ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "r" * 3000}),
        ("/oauth/token", {"grant_type": "authorization_code", "code_verifier": "v" * 3000}),
        ("/oauth/revoke", {"token": "t" * 3000}),
        ("/oauth/introspect", {"token": "t" * 3000}),
    ],
    ids=[
        "a long code",
        "a long refresh token",
        "a long code verifier",
        "a long token to revoke",
        "a long token to introspect",
    ],
)
async def test_a_long_oauth_parameter_is_invalid_request(
    client: httpx.AsyncClient, confidential: Any, path: str, form: dict[str, str]
) -> None:
    zapier, _ = confidential
    response = await client.post(path, data={**form, **zapier.form()})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "parameter is too long" in response.json()["error_description"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_a_repeated_parameter_is_invalid_request_on_every_form_endpoint(
    client: httpx.AsyncClient, confidential: Any, path: str
) -> None:
    zapier, _ = confidential
    body = urlencode([("token", "a"), ("grant_type", "x"), ("token", "b"), ("grant_type", "y")])
    response = await client.post(
        path,
        content=body + "&" + urlencode(zapier.form()),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "repeated" in response.json()["error_description"]


async def test_a_long_client_id_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "client_id": "c" * 1000}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_long_state_is_refused_and_not_sent_back(
    client: httpx.AsyncClient, confidential: Any
) -> None:
    zapier, _ = confidential
    await sign_up(client, email="bob@example.com")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": zapier.client_id,
            "redirect_uri": REDIRECT,
            "state": "s" * 3000,
        }
    )
    response = await client.get(f"/oauth/authorize?{query}")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    sent_back = parse_qs(urlsplit(location).query)
    assert sent_back["error"] == ["invalid_request"]
    assert sent_back["error_description"] == ["The state parameter is too long."]
    assert "state" not in sent_back


async def test_an_unknown_scope_is_quoted_safely(
    client: httpx.AsyncClient, confidential: Any
) -> None:
    zapier, _ = confidential
    await sign_up(client, email="bob@example.com")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": zapier.client_id,
            "redirect_uri": REDIRECT,
            "scope": 'read "admin\\" é' + "x" * 100,
        }
    )
    response = await client.get(f"/oauth/authorize?{query}")
    sent_back = parse_qs(urlsplit(response.headers["location"]).query)
    assert sent_back["error"] == ["invalid_scope"]
    # RFC 6749 §5.2's characters only, and each name cut short.
    assert sent_back["error_description"] == ["Unknown scope: ?admin??, ?" + "x" * 36 + "...."]


@pytest.mark.parametrize(
    "next_path",
    ["/€", "/\x01", "/a\x7f", "/a b"],
    ids=["outside latin-1", "a control character", "DEL", "a space"],
)
async def test_a_next_path_that_cannot_be_a_location_header_is_ignored(
    client: httpx.AsyncClient, next_path: str
) -> None:
    await sign_up(client)
    page = await client.get("/settings/account")
    await client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    login = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": csrf_token(login.text),
            "email": "ann@example.com",
            "password": "correct horse battery",
            "next": next_path,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/developer"


# --- NUL and other control characters (PostgreSQL text cannot hold NUL) -----------------------


async def test_a_nul_in_a_client_id_is_a_failed_client_authentication(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "client_id": "a\x00b"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_nul_in_an_authorization_requests_client_id_is_an_unknown_client(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/oauth/authorize", params={"client_id": "a\x00b", "response_type": "code"}
    )
    assert response.status_code == 400
    assert "No application is registered under this client id." in response.text


async def test_a_nul_in_a_login_email_is_a_failed_login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"csrf_token": csrf_token(page.text), "email": "a\x00@b.co", "password": "x" * 10},
    )
    assert response.status_code == 400
    assert "Incorrect email or password." in response.text


@pytest.mark.parametrize(
    ("email", "name", "says"),
    [
        ("a\x00@example.com", "Ann", "Enter an email address like name@example.com."),
        ("ann@example.com", "A\x00nn", "Remove the control characters"),
        ("ann@example.com", "A\x1bnn", "Remove the control characters"),
    ],
    ids=["a NUL in the email", "a NUL in the name", "an escape in the name"],
)
async def test_sign_up_refuses_control_characters(
    client: httpx.AsyncClient, email: str, name: str, says: str
) -> None:
    page = await client.get("/signup")
    response = await client.post(
        "/signup",
        data={
            "csrf_token": csrf_token(page.text),
            "email": email,
            "password": "correct horse battery",
            "name": name,
        },
    )
    assert response.status_code == 400
    assert says in response.text


async def test_token_and_app_names_refuse_control_characters(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page = await client.get("/settings/developer/tokens/new")
    response = await client.post(
        "/settings/developer/tokens/new",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "ci\x00",
            "scopes": "read",
            "expiration": "30",
        },
    )
    assert response.status_code == 400
    assert "Remove the control characters" in response.text
    page = await client.get("/settings/developer/applications/new")
    response = await client.post(
        "/settings/developer/applications/new",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "Zap",
            "redirect_uris": "https://zap.example/cb",
            "description": "line one\nline two\x00",
            "client_type": "confidential",
        },
    )
    assert response.status_code == 400
    assert "Remove the control characters" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/settings/developer/tokens/pat_%00/revoke",
        "/settings/developer/applications/app_%00",
        "/settings/authorized-applications/app_%00/revoke",
    ],
)
async def test_a_nul_in_an_id_of_a_page_is_a_4xx(client: httpx.AsyncClient, path: str) -> None:
    await sign_up(client)
    page = await client.get("/settings/developer")
    assert (await client.get(path)).status_code in (400, 404)
    posted = await client.post(path, data={"csrf_token": csrf_token(page.text)})
    # SQLite finds no such row; PostgreSQL refuses the value (paced.web.errors.bad_data).
    assert posted.status_code in (400, 404)
