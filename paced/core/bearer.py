"""Bearer authentication of API requests (RFC 6750), for every `/api/v1` route.

    Authorization: Bearer pt_secret_…   a personal access token
    Authorization: Bearer pt_oauth_…    an OAuth access token

This runs on every API call, so it is lean: the header is parsed and the token's format
and checksum checked before any database read; then one indexed read by digest; a write
only when the recorded last use is older than `Policy.last_used_granularity`. Nothing is
cached, so a revocation holds from the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from paced.core import token_format
from paced.core.errors import (
    InsufficientScope,
    InvalidBearerRequest,
    InvalidToken,
    MissingCredentials,
)
from paced.core.ids import digest, same
from paced.core.policy import Policy
from paced.core.records import BearerToken, Principal
from paced.core.store import BearerStore

MALFORMED = "The access token is malformed."
UNKNOWN = "The access token is not valid."
EXPIRED = "The access token expired."
REVOKED = "The access token was revoked."


def parse_authorization(values: Sequence[str]) -> str:
    """The token of the request's `Authorization` header values (RFC 6750 §2.1)."""
    # RFC 6750 §3.1: a request without any authentication information gets no error code.
    if not values:
        raise MissingCredentials("Send a token: Authorization: Bearer <token>.")
    # RFC 6750 §3.1: more than one method (or header) is invalid_request.
    if len(values) > 1:
        raise InvalidBearerRequest("Send one Authorization header.")
    scheme, _, credentials = values[0].strip(" \t").partition(" ")
    # RFC 7235 §2.1: the scheme is case-insensitive; another scheme is no Bearer credential.
    if scheme.lower() != "bearer":
        raise MissingCredentials("Send a token: Authorization: Bearer <token>.")
    token = credentials.strip(" \t")
    # RFC 6750 §2.1: b64token is one word, and must be there.
    if not token or " " in token or "\t" in token:
        raise InvalidBearerRequest("The Authorization header must be: Bearer <token>.")
    return token


async def look_up(store: BearerStore, token: str) -> BearerToken | None:
    """Format and checksum first (no database read for a malformed token), then one read."""
    if token_format.is_well_formed(token, token_format.PERSONAL):
        wanted = digest(token)
        found = await store.personal_bearer_token(wanted)
    elif token_format.is_well_formed(token, token_format.ACCESS):
        wanted = digest(token)
        found = await store.oauth_bearer_token(wanted)
    else:
        raise InvalidToken(MALFORMED)
    return found if found is not None and same(found.digest, wanted) else None


async def authenticate(
    store: BearerStore, authorization: Sequence[str], now: datetime, policy: Policy
) -> Principal:
    """Who the request acts for, from its `Authorization` header values."""
    token = parse_authorization(authorization)
    found = await look_up(store, token)
    # RFC 6750 §3.1: unknown, expired or revoked tokens are all invalid_token.
    if found is None:
        raise InvalidToken(UNKNOWN)
    if found.revoked:
        raise InvalidToken(REVOKED)
    if found.expires_at is not None and found.expires_at <= now:
        raise InvalidToken(EXPIRED)
    await record_use(store, found, now, policy)
    return Principal(
        user=found.user,
        scopes=found.scopes,
        kind=found.kind,
        token_id=found.id,
        client_id=found.client_id,
    )


async def record_use(store: BearerStore, found: BearerToken, now: datetime, policy: Policy) -> None:
    """Coarsely: at most one write per token (or grant) per granularity, so that a valid
    request normally costs no write."""
    unused_since = now - policy.last_used_granularity
    if found.last_used_at is not None and found.last_used_at > unused_since:
        return
    if found.kind == "oauth" and found.grant_id is not None:
        await store.record_grant_use(found.grant_id, now, unused_since=unused_since)
    elif found.kind == "personal":
        await store.record_personal_token_use(found.id, now, unused_since=unused_since)


def require_scope(principal: Principal, scope: str) -> None:
    # RFC 6750 §3.1: insufficient_scope names the scope the resource needs.
    if scope not in principal.scopes:
        raise InsufficientScope(f"This request needs the {scope} scope.", scope=scope)
