"""`/oauth/authorize` with a client ID metadata document as client_id: the consent screen
says who is asking, a bad document is an error page and never a redirect, and the
approved client exchanges its code as a public client. The fetch itself is
`paced.outbound`'s (tests/test_outbound.py); here a fake fetcher serves the documents."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from paced.core import pkce
from paced.core.client_metadata_document import DocumentUnavailable
from paced.settings import Settings
from tests.helpers import app_client, sign_up
from tests.web.test_authorize import answer, decide

URL = "https://agent.example/oauth/client.json"
CALLBACK = "http://127.0.0.1:3030/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = pkce.challenge_of(VERIFIER)


class Documents:
    """A fetcher serving documents from a dict; a missing one cannot be fetched."""

    def __init__(self) -> None:
        self.served: dict[str, bytes] = {}
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.served:
            raise DocumentUnavailable("it answered HTTP 404")
        return self.served[url]


def document(**fields: Any) -> bytes:
    return json.dumps(
        {"client_id": URL, "client_name": "Claude Code", "redirect_uris": [CALLBACK]} | fields
    ).encode()


@pytest.fixture
def documents(app: FastAPI) -> Documents:
    fake = Documents()
    fake.served[URL] = document()
    app.paced.documents = fake
    return fake


def authorize(client_id: str = URL, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "state": "s1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(params)


async def test_a_document_client_is_shown_by_its_name_and_host_then_gets_tokens(
    client: httpx.AsyncClient, documents: Documents
) -> None:
    await sign_up(client)
    page = await client.get(authorize(resource="http://testserver/api/v1"))
    assert page.status_code == 200, page.text
    assert "Authorize Claude Code" in page.text
    assert "registered itself, not reviewed by anyone" in page.text
    assert "agent.example" in page.text and "127.0.0.1:3030" in page.text
    target, query = answer(await decide(client, page, "approve"))
    assert target == CALLBACK
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CALLBACK,
            "client_id": URL,
            "code_verifier": VERIFIER,
            "resource": "http://testserver/api/v1",
        },
    )
    assert token.status_code == 200, token.text
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    # Approving again (the document changed its name) asks again and keeps one app.
    documents.served[URL] = document(client_name="Claude Code 2")
    again = await client.get(authorize())
    assert again.status_code == 200 and "Claude Code 2" in again.text
    answer(await decide(client, again, "approve"))


@pytest.mark.parametrize(
    ("served", "request_changes"),
    [
        (None, {}),
        (document(client_id="https://agent.example/other.json"), {}),
        (document(), {"redirect_uri": "http://127.0.0.1:4040/callback"}),
        (document(), {"redirect_uri": "https://evil.example/callback"}),
        (document(redirect_uris=["http://evil.example/cb"]), {}),
        (b"<html>", {}),
    ],
    ids=[
        "a document that cannot be fetched",
        "a document naming another client_id",
        "a loopback redirect on another port than the document lists",
        "a redirect the document does not list",
        "a document listing a redirect URI that cannot be registered",
        "a document that is not JSON",
    ],
)
async def test_a_bad_document_is_an_error_page_and_never_a_redirect(
    client: httpx.AsyncClient,
    documents: Documents,
    served: bytes | None,
    request_changes: dict[str, str],
) -> None:
    if served is None:
        documents.served.clear()
    else:
        documents.served[URL] = served
    await sign_up(client)
    response = await client.get(authorize(**request_changes))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "cannot be used" in response.text or "not registered" in response.text


async def test_a_url_that_cannot_name_a_client_is_refused_before_any_fetch(
    client: httpx.AsyncClient, documents: Documents
) -> None:
    await sign_up(client)
    response = await client.get(authorize("https://agent.example/"))
    assert response.status_code == 400 and "has no path" in response.text
    assert documents.fetched == []


async def test_documents_turned_off_are_not_fetched(settings: Settings) -> None:
    off = settings.model_copy(update={"client_id_metadata_documents": "off"})
    async with app_client(off) as http:
        await sign_up(http)
        response = await http.get(authorize())
    assert response.status_code == 400
    assert "does not accept client ID metadata documents" in response.text


async def test_a_document_client_must_use_pkce(
    client: httpx.AsyncClient, documents: Documents
) -> None:
    await sign_up(client)
    response = await client.get(
        authorize().replace(f"&code_challenge={CHALLENGE}&code_challenge_method=S256", "")
    )
    target, query = answer(response)
    assert target == CALLBACK and query["error"] == "invalid_request"
