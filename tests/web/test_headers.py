"""Security headers (docs/reference.md §7) on every kind of answer: pages, forms with errors, error
pages, redirects, the consent screen, the API, the OAuth endpoints, static files; and
`Cache-Control: no-store` on every page that shows a secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from paced.web.headers import CSP
from tests.every_page import Furnished, furnish, signed_in_pages
from tests.helpers import submit

Request = Callable[[httpx.AsyncClient, Furnished], Awaitable[httpx.Response]]


async def _form_with_errors(http: httpx.AsyncClient, site: Furnished) -> httpx.Response:
    return await submit(http, "/settings/developer/tokens/new", name="", expiration="30")


async def _signed_out_form(http: httpx.AsyncClient, site: Furnished) -> httpx.Response:
    await submit(http, "/settings/account", "/logout")
    return await http.get("/login")


KINDS: list[tuple[str, Request]] = [
    ("a signed-in page", lambda http, site: http.get("/settings/developer")),
    ("the sign-in form, signed out", _signed_out_form),
    ("a form sent back with its errors", _form_with_errors),
    ("a redirect", lambda http, site: http.get("/")),
    ("a page that is not there", lambda http, site: http.get("/settings/nothing-here")),
    ("the consent screen", lambda http, site: http.get(site.consent_path())),
    ("an authorization error page", lambda http, site: http.get("/oauth/authorize?client_id=x")),
    ("an API answer", lambda http, site: http.get("/api/v1/me")),
    ("a token endpoint error", lambda http, site: http.post("/oauth/token", data={})),
    (
        "the server metadata",
        lambda http, site: http.get("/.well-known/oauth-authorization-server"),
    ),
    ("the stylesheet", lambda http, site: http.get("/static/paced.css")),
    ("the script", lambda http, site: http.get("/static/paced.js")),
]


@pytest.mark.parametrize("request_of", [pytest.param(call, id=name) for name, call in KINDS])
async def test_every_kind_of_answer_carries_the_security_headers(
    client: httpx.AsyncClient, request_of: Request
) -> None:
    site = await furnish(client)
    response = await request_of(client, site)
    assert response.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self';" in CSP
    assert "unsafe-inline" not in CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_signed_in_page_carries_them(client: httpx.AsyncClient) -> None:
    pages = await signed_in_pages(client, await furnish(client))
    for path in pages:
        response = await client.get(path)
        headers = response.headers
        assert headers["content-security-policy"] == CSP, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path


async def test_the_api_docs_may_run_swagger_but_not_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def _new_token(http: httpx.AsyncClient, site: Furnished) -> httpx.Response:
    page = "/settings/developer/tokens/new"
    return await submit(http, page, name="b", scopes=["read", "write"], expiration="7")


async def _new_app(http: httpx.AsyncClient, site: Furnished) -> httpx.Response:
    fields = {"name": "B", "redirect_uris": "https://b.example/cb", "client_type": "confidential"}
    return await submit(http, "/settings/developer/applications/new", **fields)


async def _new_client_secret(http: httpx.AsyncClient, site: Furnished) -> httpx.Response:
    page = f"/settings/developer/applications/{site.app_id}"
    return await submit(http, page, f"{page}/secrets")


SECRETS: list[tuple[str, Request, str]] = [
    ("a new personal access token", _new_token, "pt_secret_"),
    ("a new application's client secret", _new_app, "pt_client_"),
    ("a rotated client secret", _new_client_secret, "pt_client_"),
]


@pytest.mark.parametrize(
    ("make", "prefix"), [pytest.param(make, prefix, id=name) for name, make, prefix in SECRETS]
)
async def test_a_page_showing_a_secret_is_never_stored(
    client: httpx.AsyncClient, make: Request, prefix: str
) -> None:
    site = await furnish(client)
    made = await make(client, site)
    assert made.status_code == 303 and made.headers["cache-control"] == "no-store"
    shown = await client.get(made.headers["location"])
    assert prefix in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["pragma"] == "no-cache"
