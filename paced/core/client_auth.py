"""Client authentication (RFC 6749 §2.3), shared by the token, revocation and
introspection endpoints.

    read_credentials   what the request claims: HTTP Basic, body parameters, or a bare
                       client_id (a public client); ambiguity is refused before any lookup
    authenticate       whether the claim holds, against the app and its live secrets

Every failed authentication says the same client-safe thing; what went wrong is in
`debug`, for the logs only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import unquote_plus

from paced.core import token_format
from paced.core.errors import InvalidClient, InvalidRequest
from paced.core.ids import digest, same
from paced.core.policy import Policy
from paced.core.records import App, SecretDigest
from paced.core.store import ClientStore
from paced.core.text import has_controls

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]

FAILED = "Client authentication failed."
# Client ids are 32 base62 characters, or a metadata document's URL (at most 1000);
# anything longer is not worth a lookup.
MAX_CLIENT_ID = 1000


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What a request claims. `secret` is None exactly when `method` is "none"."""

    client_id: str
    secret: str | None
    method: ClientAuthMethod


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        # RFC 6749 §3.1 / §3.2: request parameters must not be included more than once.
        raise InvalidRequest(f"The {name} parameter is repeated.")
    return values[0]


def _basic(authorization: str) -> tuple[str, str]:
    """(client_id, secret) from an HTTP Basic header, each form-urlencoded (RFC 6749 §2.3.1)."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient(FAILED, debug=f"unsupported authorization scheme {scheme[:20]!r}")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClient(FAILED, debug="malformed Basic credentials") from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise InvalidClient(FAILED, debug="Basic credentials without a colon")
    try:
        client_id = unquote_plus(raw_id, errors="strict")
        secret = unquote_plus(raw_secret, errors="strict")
    except UnicodeDecodeError:
        raise InvalidClient(FAILED, debug="Basic credentials are not UTF-8") from None
    if not client_id:
        raise InvalidClient(FAILED, debug="Basic credentials without a client id")
    return client_id, secret


def read_credentials(
    authorization: str | None,
    body: Mapping[str, Sequence[str]],
    query: Mapping[str, Sequence[str]],
) -> ClientCredentials:
    """The credentials a request presents; `body` and `query` map a name to all its values."""
    # RFC 6749 §2.3.1: client credentials must not be in the request URI.
    if "client_id" in query or "client_secret" in query:
        raise InvalidRequest("Client credentials must not be sent in the query string.")
    body_id = _single(body, "client_id")
    body_secret = _single(body, "client_secret") or None  # an empty secret is no secret
    if authorization is not None and authorization.strip():
        client_id, secret = _basic(authorization)
        # RFC 6749 §2.3: the client must not use more than one authentication method.
        if body_secret is not None:
            raise InvalidRequest("Use one client authentication method: HTTP Basic or the body.")
        # A body client_id equal to the Basic one is harmless and many libraries send it.
        if body_id is not None and body_id != client_id:
            raise InvalidRequest("The client_id in the body differs from the one in HTTP Basic.")
        if not secret:
            return ClientCredentials(client_id, None, "none")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    # RFC 6749 §5.2: no client authentication included is invalid_client.
    if not body_id:
        raise InvalidClient(FAILED, debug="no client credentials")
    if body_secret is None:
        return ClientCredentials(body_id, None, "none")
    return ClientCredentials(body_id, body_secret, "client_secret_post")


async def authenticate(
    store: ClientStore,
    credentials: ClientCredentials,
    now: datetime,
    policy: Policy,
    *,
    allow_public: bool = True,
) -> App:
    """The app these credentials prove, else InvalidClient (RFC 6749 §5.2)."""
    client_id, secret = credentials.client_id, credentials.secret
    # A secret that fails its checksum needs no database read (docs/reference.md §3).
    if secret is not None and not token_format.is_well_formed(secret, token_format.CLIENT_SECRET):
        raise InvalidClient(FAILED, debug="malformed client secret")
    if not client_id or len(client_id) > MAX_CLIENT_ID or has_controls(client_id):
        raise InvalidClient(FAILED, debug="implausible client id")
    client = await store.client_by_id(client_id)
    if client is None:
        raise InvalidClient(FAILED, debug=f"unknown client {client_id[:40]!r}")
    app = client.app
    if app.public:
        # A public client has no secret to prove (RFC 6749 §2.1); one that sends a
        # secret is confused or impersonating a confidential client.
        if secret is not None:
            raise InvalidClient(FAILED, debug="a public client sent a client secret")
        # RFC 7662 §2.1: the introspection endpoint is for authenticated clients only.
        if not allow_public:
            raise InvalidClient(FAILED, debug="a public client may not use this endpoint")
        return app
    # RFC 6749 §3.2.1: a confidential client must authenticate.
    if secret is None:
        raise InvalidClient(FAILED, debug="a confidential client sent no secret")
    presented = digest(secret)
    matched: SecretDigest | None = None
    for live in client.secrets:
        # Compare against every live secret, without stopping early.
        if same(presented, live.digest):
            matched = live
    if matched is None:
        raise InvalidClient(FAILED, debug="wrong client secret")
    # A secret's last use is written coarsely, as a token's is: a write on every token
    # request would say no more.
    unused_since = now - policy.last_used_granularity
    used = matched.last_used_at
    if used is None or used <= unused_since:
        await store.touch_client_secret(matched.id, now, unused_since=unused_since)
    return app
