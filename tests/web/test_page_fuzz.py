"""The pages are outside `/openapi.json`, so schemathesis does not reach them: Hypothesis
sends them arbitrary queries and form bodies instead, signed out and signed in (with a
valid CSRF token, so that the forms are read past their check). Nothing may be a 5xx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from paced.settings import Settings
from paced.storage.models import users
from paced.web.app import create_app
from tests.helpers import connect, csrf_token, sign_up
from tests.oauth_helpers import REDIRECT, Person, add_client

T = TypeVar("T")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GET_PAGES = [
    "/",
    "/login",
    "/signup",
    "/oauth/authorize",
    "/settings/developer",
    "/settings/developer/tokens/new",
    "/settings/developer/tokens/created",
    "/settings/developer/applications/new",
    "/settings/account",
    "/settings/authorized-applications",
    "/settings/security-log",
]
# Every form that leaves the session alive (not /logout, not signing out everywhere).
FORMS = [
    "/login",
    "/signup",
    "/oauth/authorize",
    "/settings/account/profile",
    "/settings/account/password",
    "/settings/developer/tokens/new",
    "/settings/developer/applications/new",
    "/settings/developer/tokens/pat_x/revoke",
    "/settings/developer/applications/app_x",
    "/settings/developer/applications/app_x/secrets",
    "/settings/authorized-applications/app_x/revoke",
]
FIELDS = [
    "email",
    "password",
    "name",
    "next",
    "time_zone",
    "current_password",
    "new_password",
    "scopes",
    "expiration",
    "expiration_date",
    "redirect_uris",
    "homepage_url",
    "description",
    "client_type",
    "decision",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
]
values = st.text(max_size=60) | st.sampled_from(
    [
        "",
        "read",
        "write",
        "code",
        "S256",
        "approve",
        "30",
        "custom",
        "2027-01-01",
        "public",
        REDIRECT,
    ]
)
pairs = st.lists(st.tuples(st.sampled_from(FIELDS) | st.text(max_size=10), values), max_size=12)
content_types = st.sampled_from(
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain", ""]
)


@dataclass
class Browsers:
    runner: asyncio.Runner
    anonymous: httpx.AsyncClient
    signed_in: httpx.AsyncClient
    csrf: str
    client_id: str

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)


@pytest.fixture
def browsers(settings: Settings) -> Iterator[Browsers]:
    """One event loop for the whole test (Hypothesis calls the test once per example)."""
    with asyncio.Runner() as runner:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        anonymous = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        signed_in = httpx.AsyncClient(transport=transport, base_url="http://testserver")

        async def prepare() -> tuple[str, str]:
            await sign_up(signed_in)
            page = await signed_in.get("/settings/account")
            client = await add_client(app.paced.database, await _owner(app))
            return csrf_token(page.text), client.client_id

        csrf, client_id = runner.run(prepare())
        try:
            yield Browsers(runner, anonymous, signed_in, csrf, client_id)
        finally:

            async def close() -> None:
                await anonymous.aclose()
                await signed_in.aclose()
                await app.paced.database.close()

            runner.run(close())


async def _owner(app: Any) -> Person:
    async with connect(app.paced.database) as connection:
        (row,) = (await connection.execute(select(users.c.id, users.c.email))).all()
    return Person(row.id, row.email)


def authorize_query(browsers: Browsers, extra: list[tuple[str, str]]) -> str:
    base = [
        ("response_type", "code"),
        ("client_id", browsers.client_id),
        ("redirect_uri", REDIRECT),
    ]
    return urlencode(base + extra)


@FUZZ
@given(
    path=st.sampled_from(GET_PAGES),
    query=pairs,
    signed_in=st.booleans(),
    plausible=st.booleans(),
)
def test_no_page_answers_any_query_with_a_server_error(
    browsers: Browsers, path: str, query: list[tuple[str, str]], signed_in: bool, plausible: bool
) -> None:
    http = browsers.signed_in if signed_in else browsers.anonymous
    text = authorize_query(browsers, query) if plausible else urlencode(query)
    response = browsers.run(http.get(f"{path}?{text}"))
    assert response.status_code < 500, response.text


@FUZZ
@given(
    path=st.sampled_from(FORMS),
    fields=pairs,
    raw=st.none() | st.binary(max_size=300),
    content_type=content_types,
    signed_in=st.booleans(),
)
def test_no_form_answers_any_body_with_a_server_error(
    browsers: Browsers,
    path: str,
    fields: list[tuple[str, str]],
    raw: bytes | None,
    content_type: str,
    signed_in: bool,
) -> None:
    http = browsers.signed_in if signed_in else browsers.anonymous
    if path == "/oauth/authorize":
        fields = [("client_id", browsers.client_id), ("redirect_uri", REDIRECT), *fields]
    body = raw if raw is not None else urlencode([("csrf_token", browsers.csrf), *fields]).encode()
    headers = {"content-type": content_type} if content_type else {}
    response = browsers.run(http.post(path, content=body, headers=headers))
    assert response.status_code < 500, response.text
