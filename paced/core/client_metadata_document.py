"""Client ID metadata documents (the IETF draft "OAuth Client ID Metadata Document", as the
MCP authorization specification of 2025-11-25 uses it).

A client may name itself by an https URL with a path, instead of a registered client id.
paced fetches the JSON document at that URL (through a `DocumentFetcher`; the web layer's
one is `paced.outbound`) and checks, in order:

    1. the URL: https, a host, a path, no userinfo, fragment or dot segments
    2. the document: one JSON object
    3. its client_id equals the URL, character for character
    4. its redirect_uris: one to ten, each one Developer settings would register
    5. token_endpoint_auth_method: absent or none (the client is public: PKCE)
    6. client_name, client_uri: well-formed

Any failure is `UntrustedRedirect`: the user sees an error page (400), and nobody is
redirected, since nothing about the client can be trusted yet. A client known this way has
no owner and has not been reviewed: the consent screen says so and names the document's
host. Its app row is written when the user first approves it (`save_document_client`),
under an id derived from the URL, so that its grants and tokens have an app to belong to.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from paced.core import apps, redirect_uris
from paced.core.authorization_request import UntrustedRedirect
from paced.core.errors import shown
from paced.core.ids import BASE62
from paced.core.records import App

# The apps table holds client ids up to 1024 characters.
MAX_URL = 1000
# Fetch limits (the web layer's fetcher applies them).
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 5 * 1024
MAX_CACHE_SECONDS = 24 * 60 * 60


class DocumentUnavailable(Exception):
    """The document could not be fetched; the message says why, for the error page."""


class DocumentFetcher(Protocol):
    async def fetch(self, url: str) -> bytes:
        """The document's bytes (at most MAX_BYTES, fetched within TIMEOUT_SECONDS, from a
        public address, no redirect followed), possibly from a cache; else
        DocumentUnavailable."""
        ...


def is_document_url(client_id: str) -> bool:
    """Whether a client_id names a metadata document: an https URL with a path. Such ids
    are never given to registered apps (theirs are base62)."""
    return client_id.startswith("https://")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a client's document URL, or None."""
    if len(url) > MAX_URL:
        return f"it is longer than {MAX_URL} characters"
    if not url.isascii() or not url.isprintable() or any(c.isspace() for c in url):
        return "it holds spaces or characters outside printable ASCII"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme != "https" or not parts.hostname:
        return "it is not an https URL with a host"
    if "@" in parts.netloc:
        return "it holds a user name or password"
    if parts.fragment or "#" in url:
        return "it has a fragment"
    if parts.path in ("", "/"):
        return "it has no path"
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return "its path has . or .. segments"
    return None


def app_id_for(url: str) -> str:
    """The app id of the document's client: the same for the same URL, on every node."""
    number = int.from_bytes(hashlib.sha256(url.encode()).digest(), "big")
    digits = []
    for _ in range(24):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "app_" + "".join(digits)


def _refuse(url: str, why: str) -> UntrustedRedirect:
    return UntrustedRedirect(
        f"The client's metadata document at {shown(url, 80)} cannot be used: {why}.",
        debug=why,
    )


def client_from(url: str, body: bytes, now: datetime) -> App:
    """The client the document at `url` describes: checks 2 to 6 of the docstring."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse(url, "it is not JSON") from None
    if not isinstance(document, dict):
        raise _refuse(url, "it is not a JSON object")
    if document.get("client_id") != url:
        raise _refuse(url, "its client_id is not the URL it was fetched from")
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise _refuse(url, "it lists no redirect_uris")
    if len(uris) > redirect_uris.MAX_URIS:
        raise _refuse(url, f"it lists more than {redirect_uris.MAX_URIS} redirect URIs")
    for uri in uris:
        if (problem := redirect_uris.problem(uri, public=True)) is not None:
            raise _refuse(url, f"redirect URI {shown(uri, 60)}: {problem}")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        # The draft forbids shared secrets; a public client proves itself with PKCE.
        raise _refuse(url, "its token_endpoint_auth_method must be none")
    name = document.get("client_name")
    name = " ".join(name.split()) if isinstance(name, str) else ""
    name = name or (urlsplit(url).hostname or url)[: apps.MAX_NAME]
    if (problem := apps.check_name(name)) is not None:
        raise _refuse(url, f"client_name: {problem}")
    homepage = document.get("client_uri", "")
    if not isinstance(homepage, str) or apps.check_homepage(homepage.strip()) is not None:
        homepage = ""  # only shown as a link; a bad one is left out, not fatal
    return App(
        id=app_id_for(url),
        owner_id=None,
        name=name,
        description="",
        homepage_url=homepage.strip(),
        client_id=url,
        redirect_uris=tuple(dict.fromkeys(uris)),
        public=True,
        created_at=now,
        updated_at=now,
        registration="document",
    )


async def resolve(fetcher: DocumentFetcher, url: str, now: datetime) -> App:
    """The client named by the document URL `url`, fetched and checked."""
    if (why := url_problem(url)) is not None:
        raise _refuse(url, why)
    try:
        body = await fetcher.fetch(url)
    except DocumentUnavailable as error:
        raise _refuse(url, str(error)) from None
    return client_from(url, body, now)
