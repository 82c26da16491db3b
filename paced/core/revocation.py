"""Token revocation (RFC 7009).

A client ends its own tokens. A refresh token ends its whole grant: every access and
refresh token of that one authorization (RFC 7009 §2.1). An access token ends alone: the
client asked for exactly that, and keeps its refresh token; to end everything it revokes
the refresh token. Anything that is not one of the caller's tokens is answered like a
success, so that the endpoint tells nobody which tokens exist (RFC 7009 §2.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from paced.core import client_auth, security_log, token_format
from paced.core.errors import InvalidRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.store import (
    AccessTokens,
    ClientStore,
    GrantRevocation,
    RefreshTokens,
    SecurityLog,
)
from paced.core.token_endpoint import FormRequest, parse_form, value


class RevocationStore(
    ClientStore, AccessTokens, RefreshTokens, GrantRevocation, SecurityLog, Protocol
):
    pass


async def revoke(
    store: RevocationStore, request: FormRequest, now: datetime, policy: Policy
) -> Literal["grant", "access_token"] | None:
    """What was revoked (for the edge's counters); None when nothing was."""
    params = parse_form(request.content_type, request.body)
    credentials = client_auth.read_credentials(request.authorization, params, request.query)
    # RFC 7009 §2.1: the client authenticates; a public one by client_id alone
    # (docs/reference.md §6).
    app = await client_auth.authenticate(store, credentials, now, policy)
    token = value(params, "token")
    # RFC 7009 §2.1: `token` is required. (`token_type_hint` is only a hint, and our
    # prefixes say what a token is.)
    if token is None:
        raise InvalidRequest("The token parameter is missing.")
    # RFC 7009 §2.2: a malformed, unknown or foreign token is answered like a success.
    if token_format.is_well_formed(token, token_format.REFRESH):
        refresh = await store.refresh_token_by_digest(digest(token))
        if refresh is not None and refresh.grant.app_id == app.id:
            await store.revoke_grant(refresh.grant.id, now)
            if refresh.grant.revoked_at is None:
                # The integration disconnected itself: the user sees that it did.
                await security_log.record(
                    store,
                    "grant_revoked",
                    now,
                    request.origin,
                    user_id=refresh.grant.user_id,
                    actor=app.client_id,
                    detail=security_log.app_detail(app, grant_id=refresh.grant.id),
                )
            return "grant"
    elif token_format.is_well_formed(token, token_format.ACCESS):
        access = await store.access_token_by_digest(digest(token))
        if access is not None and access.grant.app_id == app.id:
            await store.revoke_access_token(access.id, now)
            return "access_token"
    return None
