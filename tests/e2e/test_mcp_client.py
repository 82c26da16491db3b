"""The MCP Python SDK's OAuth client (`mcp.client.auth.OAuthClientProvider`), unchanged,
against a real `paced serve`: from `GET /api/v1/me` with no credentials, through
discovery (RFC 9728, RFC 8414), registration (RFC 7591) or a client ID metadata document,
a person's consent, and the token exchange with the resource bound (RFC 8707, PKCE), to a
200 from `/api/v1/me`.

The person is an HTTP robot signed in to paced: the SDK hands it the authorization URL
(its redirect handler), the robot reads the consent screen and presses Authorize, and
the SDK's callback handler reads the code from where paced sent the robot.
"""

from __future__ import annotations

import html
import json
import re
import threading
import webbrowser
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from sqlalchemy import select

from paced.storage.database import open_database
from paced.storage.models import grants
from tests.e2e.server import free_port, paced_serve
from tests.helpers import connect, csrf_token, sign_up
from tests.tls_server import Authority, Reply, authority, https_site

pytestmark = pytest.mark.e2e

CALLBACK = "http://127.0.0.1:3030/callback"
EMAIL = "ann@example.com"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class MemoryStorage:
    """The SDK's TokenStorage, kept in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Person:
    """Ann, signed in to paced, who approves what the SDK asks for."""

    browser: httpx.AsyncClient
    consent_pages: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)

    async def open(self, authorization_url: str) -> None:
        """The SDK's redirect handler: Ann opens the URL and presses Authorize."""
        page = await self.browser.get(authorization_url)
        assert page.status_code == 200, page.text
        self.consent_pages.append(page.text)
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
        fields["decision"] = "approve"
        answer = await self.browser.post("/oauth/authorize", data=fields)
        assert answer.status_code == 303, answer.text
        self.landed.append(answer.headers["location"])

    async def callback(self) -> AuthorizationCodeResult:
        """The SDK's callback handler: the parameters paced sent Ann back with."""
        location = self.landed[-1]
        assert location.startswith(CALLBACK + "?")
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        return AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return authority(tmp_path)


@pytest.fixture
async def paced(
    database_url: str, tmp_path: Path, ca: Authority
) -> AsyncIterator[tuple[str, Person]]:
    """A real server and Ann, signed in to it. For the document test it may fetch from
    loopback, and trusts the test's throwaway authority (SSL_CERT_FILE)."""
    env = {"PACED_OUTBOUND_ALLOW_PRIVATE": "1", "SSL_CERT_FILE": str(ca.cafile)}
    with paced_serve(database_url, tmp_path, env=env) as base:
        async with httpx.AsyncClient(base_url=base) as browser:
            await sign_up(browser, EMAIL)
            yield base, Person(browser)


def client_metadata() -> OAuthClientMetadata:
    return OAuthClientMetadata.model_validate(
        {
            "redirect_uris": [CALLBACK],
            "client_name": "MCP test agent",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
    )


async def test_the_mcp_sdk_registers_itself_and_reads_the_api(
    paced: tuple[str, Person], database_url: str
) -> None:
    base, ann = paced
    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=f"{base}/api/v1/me",
        client_metadata=client_metadata(),
        storage=storage,
        redirect_handler=ann.open,
        callback_handler=ann.callback,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        response = await http.get(f"{base}/api/v1/me")
    assert response.status_code == 200, response.text
    assert response.json()["email"] == EMAIL
    # It registered itself at /oauth/register, and Ann was told nobody reviewed it.
    assert storage.client_info is not None and storage.client_info.client_id
    assert not storage.client_info.client_id.startswith("https://")
    (page,) = ann.consent_pages
    assert "registered itself, not reviewed by anyone" in page
    assert "MCP test agent" in page and "127.0.0.1:3030" in page
    # The token holds what the API's metadata offers, and is bound to the API (RFC 8707).
    assert storage.tokens is not None and storage.tokens.scope == "read write"
    assert await grant_resources(database_url) == [f"{base}/api/v1"]


async def grant_resources(database_url: str) -> list[str | None]:
    engine = open_database(database_url)
    try:
        async with connect(engine) as connection:
            return list((await connection.execute(select(grants.c.resource))).scalars())
    finally:
        await engine.close()


async def test_the_mcp_sdk_names_itself_by_a_metadata_document_served_over_tls(
    paced: tuple[str, Person], ca: Authority, database_url: str
) -> None:
    base, ann = paced
    with https_site(ca) as site:
        url = f"{site.base}/oauth/client.json"
        site.routes["/oauth/client.json"] = Reply(
            body=json.dumps(
                {
                    "client_id": url,
                    "client_name": "MCP document agent",
                    "redirect_uris": [CALLBACK],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "none",
                }
            ).encode(),
            headers={"Cache-Control": "max-age=300"},
        )
        storage = MemoryStorage()
        provider = OAuthClientProvider(
            server_url=f"{base}/api/v1/me",
            client_metadata=client_metadata(),
            storage=storage,
            redirect_handler=ann.open,
            callback_handler=ann.callback,
            client_metadata_url=url,
        )
        async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
            response = await http.get(f"{base}/api/v1/me")
        fetched = list(site.hits)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == EMAIL
    # No registration: the URL is the client id, and paced read the document over TLS
    # (once: the consent screen and the approval share the cached copy).
    assert storage.client_info is not None and storage.client_info.client_id == url
    assert fetched == ["/oauth/client.json"]
    (page,) = ann.consent_pages
    assert "Authorize MCP document agent" in page
    assert "registered itself, not reviewed by anyone" in page and "127.0.0.1" in page
    assert await grant_resources(database_url) == [f"{base}/api/v1"]


DOCS = Path(__file__).resolve().parents[2] / "docs" / "oauth.md"


def test_the_example_in_the_docs_connects(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/oauth.md's "With the MCP Python SDK", run as written against a real server;
    only `webbrowser.open` is a robot that signs in, presses Authorize and follows the
    redirect to the example's loopback listener, as a browser would."""
    section = DOCS.read_text().split("### With the MCP Python SDK", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    port = free_port()
    with paced_serve(database_url, tmp_path) as base, httpx.Client(base_url=base) as robot:
        form = robot.get("/signup")
        data = {"csrf_token": csrf_token(form.text), "email": EMAIL, "password": "pw-" * 6}
        assert robot.post("/signup", data={**data, "name": "Ann"}).status_code == 303

        def press_authorize(url: str) -> None:
            page = robot.get(url)
            assert "registered itself, not reviewed by anyone" in page.text
            fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
            answer = robot.post("/oauth/authorize", data={**fields, "decision": "approve"})
            httpx.get(answer.headers["location"])  # to the example's listener

        def open_browser(url: str) -> bool:
            threading.Thread(target=press_authorize, args=(url,), daemon=True).start()
            return True

        monkeypatch.setattr(webbrowser, "open", open_browser)
        code = example.replace('PACED = "https://paced.example"', f'PACED = "{base}"')
        code = code.replace("PORT = 3030", f"PORT = {port}")
        printed: list[tuple[object, ...]] = []
        namespace = {"__name__": "docs_example", "print": lambda *a: printed.append(a)}
        exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 (the docs' own example)
    ((status, me),) = printed
    assert status == 200 and me["email"] == EMAIL  # type: ignore[index]
