"""Client ID metadata documents: which URLs may name a client, and which documents
describe one (every refusal an error page, never a redirect)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from paced.core import client_metadata_document as documents
from paced.core.authorization_request import UntrustedRedirect
from paced.core.client_metadata_document import DocumentUnavailable

URL = "https://agent.example/oauth/client.json"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def body(**fields: Any) -> bytes:
    return json.dumps(
        {"client_id": URL, "client_name": "Agent", "redirect_uris": ["http://127.0.0.1:3030/cb"]}
        | fields
    ).encode()


@pytest.mark.parametrize(
    "url",
    [
        "https://agent.example/",
        "https://agent.example",
        "https://user:pw@agent.example/c.json",
        "https://agent.example/c.json#x",
        "https://agent.example/a/../c.json",
        "https://agent.example/a b",
        "https://agent.example:99999/c.json",
        "https://agent.example/" + "x" * 1000,
    ],
    ids=[
        "a bare slash",
        "no path",
        "userinfo",
        "a fragment",
        "a dot segment",
        "a space",
        "a bad port",
        "too long",
    ],
)
def test_a_url_that_cannot_name_a_client_is_refused(url: str) -> None:
    assert documents.url_problem(url) is not None


def test_a_plain_https_url_with_a_path_names_a_client() -> None:
    assert documents.url_problem(URL) is None
    assert documents.url_problem("https://agent.example/c.json?v=1") is None


def test_a_valid_document_describes_a_public_unreviewed_client() -> None:
    app = documents.client_from(URL, body(client_uri="https://agent.example"), NOW)
    assert app.client_id == URL and app.public and app.owner_id is None
    assert app.registration == "document" and not app.reviewed
    assert app.name == "Agent" and app.homepage_url == "https://agent.example"
    assert app.redirect_uris == ("http://127.0.0.1:3030/cb",)
    # The same URL is the same app on every node.
    assert app.id == documents.client_from(URL, body(), NOW).id


def test_a_document_without_a_name_is_named_by_its_host() -> None:
    raw = json.dumps({"client_id": URL, "redirect_uris": ["https://agent.example/cb"]})
    assert documents.client_from(URL, raw.encode(), NOW).name == "agent.example"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff",
        b"[]",
        b"[" * 2500 + b"]" * 2500,
        body(client_id="https://agent.example/other.json"),
        body(client_id=URL + "/"),
        body(redirect_uris=[]),
        body(redirect_uris="http://127.0.0.1:3030/cb"),
        body(redirect_uris=["http://evil.example/cb"]),
        body(redirect_uris=["https://agent.example/cb#f"]),
        body(redirect_uris=[f"https://agent.example/{n}" for n in range(11)]),
        body(token_endpoint_auth_method="client_secret_basic"),
        body(client_name="A\u202egent"),
    ],
    ids=[
        "not JSON",
        "not UTF-8",
        "not an object",
        "nested too deep",
        "another client_id",
        "a client_id differing by a slash",
        "no redirect URIs",
        "redirect_uris not an array",
        "plain http off loopback",
        "a fragment in a redirect URI",
        "eleven redirect URIs",
        "a shared secret",
        "a bidirectional override in the name",
    ],
)
def test_an_invalid_document_is_an_error_page(raw: bytes) -> None:
    with pytest.raises(UntrustedRedirect):
        documents.client_from(URL, raw, NOW)


class Unreachable:
    async def fetch(self, url: str) -> bytes:
        raise DocumentUnavailable("it did not arrive within 5 seconds")


async def test_a_document_that_cannot_be_fetched_is_an_error_page_saying_why() -> None:
    with pytest.raises(UntrustedRedirect, match="did not arrive within 5 seconds"):
        await documents.resolve(Unreachable(), URL, NOW)
