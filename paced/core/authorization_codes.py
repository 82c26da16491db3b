"""The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.5, §4.6).

A code opens its grant once. Used a second time it is refused, and the grant (every
token issued from the code) is revoked; the unit of work commits that revocation
although the request fails (RFC 6749 §4.1.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn, Protocol

from paced.core import client_auth, pkce, security_log, token_issuance
from paced.core import resource as resources
from paced.core.client_auth import ClientCredentials
from paced.core.errors import InvalidGrant, InvalidRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import App, AuthorizationCode
from paced.core.security_log import Origin
from paced.core.store import (
    AuthorizationCodes,
    ClientStore,
    GrantRevocation,
    SecurityLog,
    TokenIssuance,
)
from paced.core.token_issuance import IssuedTokens

USED = "The authorization code has already been used."


class CodeExchangeStore(
    ClientStore, AuthorizationCodes, TokenIssuance, GrantRevocation, SecurityLog, Protocol
):
    pass


class ReplayStore(GrantRevocation, SecurityLog, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class CodeExchange:
    """The grant's parameters, None where absent (an empty value counts as absent)."""

    code: str | None
    redirect_uri: str | None
    code_verifier: str | None
    resource: str | None = None


async def exchange(
    store: CodeExchangeStore,
    credentials: ClientCredentials,
    request: CodeExchange,
    now: datetime,
    policy: Policy,
    *,
    origin: Origin,
) -> IssuedTokens:
    # RFC 6749 §4.1.3: the client authenticates; a public one by its client_id alone.
    app = await client_auth.authenticate(store, credentials, now, policy)
    # RFC 6749 §4.1.3: `code` is required.
    if request.code is None:
        raise InvalidRequest("The code parameter is missing.")
    code = await store.code_by_digest(digest(request.code))
    # RFC 6749 §5.2: an unknown code is an invalid grant.
    if code is None:
        raise InvalidGrant("The authorization code is invalid.", debug="unknown code")
    # RFC 6749 §4.1.3: the code must have been issued to this client.
    if code.grant.app_id != app.id:
        raise InvalidGrant("The authorization code is invalid.", debug="code of another client")
    # RFC 6749 §4.1.2: a code used twice is refused, and its tokens revoked.
    if code.used_at is not None:
        await _replayed(store, code, app, now, origin)
    # RFC 6749 §4.1.2: a code lives briefly (PACED_AUTH_CODE_TTL, as set now or at issue).
    if now >= min(code.expires_at, code.created_at + policy.auth_code_ttl):
        raise InvalidGrant("The authorization code has expired.")
    # RFC 6749 §4.1.3: redirect_uri identical to the authorization request's.
    if not _same_redirect(request.redirect_uri, code, app):
        raise InvalidGrant("The redirect_uri does not match the one of the authorization request.")
    # RFC 9700 §2.1.1: a public client must have used PKCE.
    if app.public and code.code_challenge is None:
        raise InvalidGrant("A public client must use PKCE.", debug="public client, no challenge")
    # RFC 9700 §4.8: a verifier for a code issued without a challenge is a PKCE downgrade.
    if code.code_challenge is None and request.code_verifier is not None:
        raise InvalidGrant("This authorization request did not use PKCE; send no code_verifier.")
    # RFC 7636 §4.5: a code issued with a challenge needs its verifier.
    if code.code_challenge is not None and request.code_verifier is None:
        raise InvalidGrant("The code_verifier parameter is missing.")
    # RFC 7636 §4.6: the verifier must answer the S256 challenge.
    if code.code_challenge is not None and not pkce.verify(
        request.code_verifier or "", code.code_challenge
    ):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    # The user may have revoked the application meanwhile.
    if code.grant.revoked_at is not None:
        raise InvalidGrant("The authorization has been revoked.", debug="grant revoked")
    # RFC 8707 §2.2: the API, and only what the authorization was given for.
    resources.bound(request.resource, policy.issuer, code.grant.resource)
    # The family's row first (its last use), so that concurrent writers of one family
    # queue on it rather than deadlock over its tokens.
    await store.touch_grant(code.grant.id, now)
    # RFC 6749 §4.1.2: single use, decided by the conditional update (a concurrent
    # exchange that lost is a second use).
    if not await store.consume_code(code.digest, now):
        await _replayed(store, code, app, now, origin)
    return await token_issuance.issue(
        store,
        code.grant,
        now,
        policy,
        access_scopes=code.grant.scopes,
        refresh_scopes=code.grant.scopes,
    )


def _same_redirect(sent: str | None, code: AuthorizationCode, app: App) -> bool:
    if code.redirect_uri:
        # The authorization request named it: the token request repeats it exactly.
        return sent == code.redirect_uri
    # It was omitted, so the app has a single redirect URI and the code went there: the
    # token request may omit it too, or name that one.
    return sent is None or (len(app.redirect_uris) == 1 and sent == app.redirect_uris[0])


async def _replayed(
    store: ReplayStore, code: AuthorizationCode, app: App, now: datetime, origin: Origin
) -> NoReturn:
    await store.revoke_grant(code.grant.id, now)
    await security_log.record(
        store,
        "authorization_code_replayed",
        now,
        origin,
        user_id=code.grant.user_id,
        actor=app.client_id,
        detail=security_log.app_detail(app, grant_id=code.grant.id),
    )
    raise InvalidGrant(USED, debug=f"code replayed; grant {code.grant.id} revoked")
