"""Every cookie paced sets, on https and on plain http (audit findings 9b and 9c), and
`Strict-Transport-Security` on every https answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest

from paced.settings import Settings
from paced.web.app import create_app
from tests.conftest import Clock
from tests.helpers import CHEAP_HASHING, sign_up, submit

HSTS = "max-age=63072000; includeSubDomains"
# At least these; whatever other cookie paced sets must follow the same rule.
NAMES = {"paced_session", "paced_csrf", "paced_flash", "paced_reveal"}


async def _client_for(
    base_url: str, database_url: str, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        base_url=base_url,
        secret_key="cookie-test-secret-key-cookie-test-secret-key",
        **CHEAP_HASHING,
    )
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    origin = settings.base_url  # as the browser sees it: lower case
    try:
        async with httpx.AsyncClient(transport=transport, base_url=origin) as http:
            yield http
    finally:
        await app.paced.rate_limits.aclose()
        await app.paced.database.close()


@pytest.fixture(
    params=[
        pytest.param("https://testserver", id="https"),
        pytest.param("HTTPS://TestServer", id="https written in capitals"),
    ]
)
async def https_client(
    request: pytest.FixtureRequest, database_url: str, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client_for(request.param, database_url, clock):
        yield http


async def _every_cookie_set(http: httpx.AsyncClient) -> list[SimpleCookie]:
    """Sign up, make a secret, see it, sign out, see the flash: every cookie site."""
    answers = [await http.get("/signup"), await sign_up(http)]
    made = await submit(
        http, "/settings/developer/tokens/new", name="a", scopes=["read"], expiration="7"
    )
    answers += [made, await http.get(made.headers["location"])]
    answers.append(await submit(http, "/settings/account", "/logout"))
    answers.append(await http.get("/login"))
    cookies = []
    for answer in answers:
        for line in answer.headers.get_list("set-cookie"):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(line)
            cookies.append(cookie)
    return cookies


async def test_on_https_every_cookie_is_a_host_cookie(https_client: httpx.AsyncClient) -> None:
    cookies = await _every_cookie_set(https_client)
    names = {name for cookie in cookies for name in cookie}
    assert {f"__Host-{name}" for name in NAMES} <= names
    assert all(name.startswith("__Host-") for name in names), names
    for cookie in cookies:
        for name, morsel in cookie.items():
            assert morsel["secure"] is True, name
            assert morsel["path"] == "/", name
            assert not morsel["domain"], name
            assert morsel["httponly"] is True, name


async def test_on_https_every_answer_asks_for_https_from_now_on(
    https_client: httpx.AsyncClient,
) -> None:
    for path in ("/login", "/api/v1/me", "/.well-known/oauth-authorization-server", "/nothing"):
        response = await https_client.get(path)
        assert response.headers["strict-transport-security"] == HSTS, path
    token = await https_client.post("/oauth/token", data={})
    assert token.headers["strict-transport-security"] == HSTS


async def test_on_http_cookies_keep_their_plain_names_and_no_hsts_is_sent(
    client: httpx.AsyncClient,
) -> None:
    cookies = await _every_cookie_set(client)
    assert NAMES <= {name for cookie in cookies for name in cookie}
    for cookie in cookies:
        for name, morsel in cookie.items():
            assert not morsel["secure"], name
    assert "strict-transport-security" not in (await client.get("/login")).headers


async def test_a_plain_name_is_ignored_on_https(https_client: httpx.AsyncClient) -> None:
    await sign_up(https_client)
    session = https_client.cookies["__Host-paced_session"]
    https_client.cookies.clear()
    https_client.cookies.set("paced_session", session)
    page = await https_client.get("/settings/developer")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
