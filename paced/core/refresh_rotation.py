"""The `refresh_token` grant with rotation (RFC 6749 §6, RFC 9700 §4.14).

Every refresh replaces the refresh token. A replaced one presented again means that two
parties hold it, and the server cannot tell which is the thief: the whole grant is
revoked (committed although the request fails), and both must ask the user again.
Within `Policy.refresh_reuse_grace` after the replacement, the same client presenting it
again is only refused, for clients that race themselves (docs/reference.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn, Protocol

from paced.core import client_auth, security_log, token_format, token_issuance
from paced.core import resource as resources
from paced.core import scopes as scope_rules
from paced.core.client_auth import ClientCredentials
from paced.core.errors import InvalidGrant, InvalidRequest, InvalidScope
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import App, RefreshToken
from paced.core.security_log import Origin
from paced.core.store import (
    ClientStore,
    GrantRevocation,
    RefreshTokens,
    SecurityLog,
    TokenIssuance,
)
from paced.core.token_issuance import IssuedTokens

INVALID = "The refresh token is invalid."
REUSED = "The refresh token has already been used."


class RefreshStore(
    ClientStore, RefreshTokens, TokenIssuance, GrantRevocation, SecurityLog, Protocol
):
    pass


class ReuseStore(GrantRevocation, SecurityLog, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """The grant's parameters, None where absent (an empty value counts as absent)."""

    refresh_token: str | None
    scope: str | None = None
    resource: str | None = None


async def refresh(
    store: RefreshStore,
    credentials: ClientCredentials,
    request: RefreshRequest,
    now: datetime,
    policy: Policy,
    *,
    origin: Origin,
) -> IssuedTokens:
    # RFC 6749 §6: the client authenticates; a public one by its client_id alone.
    app = await client_auth.authenticate(store, credentials, now, policy)
    # RFC 6749 §6: `refresh_token` is required.
    if request.refresh_token is None:
        raise InvalidRequest("The refresh_token parameter is missing.")
    # docs/reference.md §3: a malformed token is refused without a database read.
    if not token_format.is_well_formed(request.refresh_token, token_format.REFRESH):
        raise InvalidGrant(INVALID, debug="malformed refresh token")
    token = await store.refresh_token_by_digest(digest(request.refresh_token))
    # RFC 6749 §5.2: an unknown refresh token is an invalid grant.
    if token is None:
        raise InvalidGrant(INVALID, debug="unknown refresh token")
    # RFC 6749 §10.4: a refresh token is bound to the client it was issued to.
    if token.grant.app_id != app.id:
        raise InvalidGrant(INVALID, debug="refresh token of another client")
    # RFC 7009 §2.1 / the authorized-applications page: revoked is over.
    if token.revoked_at is not None or token.grant.revoked_at is not None:
        raise InvalidGrant("The authorization has been revoked.", debug="revoked")
    # RFC 9700 §4.14: a replaced refresh token presented again revokes the grant.
    if token.rotated_at is not None:
        await _reused(store, token, app, token.rotated_at, now, policy, origin)
    # docs/reference.md §1: PACED_REFRESH_TOKEN_TTL since the last rotation, and
    # PACED_REFRESH_TOKEN_MAX_AGE since the authorization.
    expiry = token_issuance.refresh_token_expiry(token, policy)
    if expiry is not None and now >= expiry:
        raise InvalidGrant("The refresh token has expired.")
    # RFC 8707 §2.2: the API, and only what the authorization was given for.
    resources.bound(request.resource, policy.issuer, token.grant.resource)
    # RFC 6749 §6: a narrower scope may be asked for, never a wider one.
    access_scopes = _requested_scopes(request.scope, token.grant.scopes)
    # The family's row first (its last use), so that concurrent writers of one family
    # queue on it rather than deadlock over its tokens.
    await store.touch_grant(token.grant.id, now)
    # RFC 9700 §4.14: rotate, decided by the conditional update (a concurrent refresh
    # that lost is a second use of the same token).
    if not await store.rotate_refresh_token(token.id, now):
        await _reused(store, token, app, now, now, policy, origin)
    return await token_issuance.issue(
        store,
        token.grant,
        now,
        policy,
        access_scopes=access_scopes,
        # RFC 6749 §6: the new refresh token keeps the scope of the one it replaces.
        refresh_scopes=token.scopes,
    )


def _requested_scopes(scope: str | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """RFC 6749 §6: omitted means the original scope; anything else must be within it."""
    if scope is None or not scope.strip():
        return granted
    wanted = scope_rules.normalize(scope.split())
    if not set(wanted).issubset(granted):
        raise InvalidScope(
            f"The requested scope exceeds what was granted ({scope_rules.render(granted)})."
        )
    return wanted


async def _reused(
    store: ReuseStore,
    token: RefreshToken,
    app: App,
    rotated_at: datetime,
    now: datetime,
    policy: Policy,
    origin: Origin,
) -> NoReturn:
    # docs/reference.md §1: the same client, within the grace after rotation, is only refused.
    if now - rotated_at < policy.refresh_reuse_grace:
        raise InvalidGrant(REUSED, debug=f"reuse within the grace; grant {token.grant.id} kept")
    await store.revoke_grant(token.grant.id, now)
    await security_log.record(
        store,
        "refresh_token_reused",
        now,
        origin,
        user_id=token.grant.user_id,
        actor=app.client_id,
        detail=security_log.app_detail(app, grant_id=token.grant.id),
    )
    raise InvalidGrant(REUSED, debug=f"refresh token reused; grant {token.grant.id} revoked")
