"""Token introspection (RFC 7662), for confidential clients about their own tokens.

Whatever is not a live token issued to the caller (unknown, expired, revoked, replaced,
another client's, a personal access token) is `{"active": false}` and nothing more
(RFC 7662 §2.2), so that the answer discloses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from paced.core import client_auth, token_format, token_issuance
from paced.core import scopes as scope_rules
from paced.core.errors import InvalidRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import App, Grant
from paced.core.store import AccessTokens, ClientStore, RefreshTokens, UserStore
from paced.core.token_endpoint import FormRequest, parse_form, value

TokenType = Literal["bearer", "refresh_token"]


class IntrospectionStore(ClientStore, AccessTokens, RefreshTokens, UserStore, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Introspection:
    active: bool
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    username: str = ""
    sub: str = ""
    token_type: TokenType = "bearer"  # noqa: S105 (a token type)
    iat: datetime | None = None
    exp: datetime | None = None
    # RFC 7662 §2.2 / RFC 8707: the resource the token is bound to.
    aud: str | None = None

    def body(self) -> dict[str, object]:
        """RFC 7662 §2.2; an inactive token says only that."""
        if not self.active:
            return {"active": False}
        body: dict[str, object] = {
            "active": True,
            "scope": scope_rules.render(self.scopes),
            "client_id": self.client_id,
            "username": self.username,
            "sub": self.sub,
            "token_type": self.token_type,
        }
        if self.exp is not None:
            body["exp"] = int(self.exp.timestamp())
        if self.iat is not None:
            body["iat"] = int(self.iat.timestamp())
        if self.aud is not None:
            body["aud"] = self.aud
        return body


INACTIVE = Introspection(active=False)


async def introspect(
    store: IntrospectionStore, request: FormRequest, now: datetime, policy: Policy
) -> Introspection:
    params = parse_form(request.content_type, request.body)
    credentials = client_auth.read_credentials(request.authorization, params, request.query)
    # RFC 7662 §2.1: the caller authenticates; only confidential clients (docs/reference.md §6).
    app = await client_auth.authenticate(store, credentials, now, policy, allow_public=False)
    token = value(params, "token")
    # RFC 7662 §2.1: `token` is required (`token_type_hint` is only a hint).
    if token is None:
        raise InvalidRequest("The token parameter is missing.")
    if token_format.is_well_formed(token, token_format.ACCESS):
        access = await store.access_token_by_digest(digest(token))
        if access is None or access.revoked_at is not None or now >= access.expires_at:
            return INACTIVE
        return await _active(
            store, app, access.grant, "bearer", access.scopes, access.created_at, access.expires_at
        )
    if token_format.is_well_formed(token, token_format.REFRESH):
        refresh = await store.refresh_token_by_digest(digest(token))
        if refresh is None or refresh.revoked_at is not None or refresh.rotated_at is not None:
            return INACTIVE
        expiry = token_issuance.refresh_token_expiry(refresh, policy)
        if expiry is not None and now >= expiry:
            return INACTIVE
        return await _active(
            store, app, refresh.grant, "refresh_token", refresh.scopes, refresh.created_at, expiry
        )
    # A personal access token, or nothing we issued.
    return INACTIVE


async def _active(
    store: UserStore,
    app: App,
    grant: Grant,
    token_type: TokenType,
    scopes: tuple[str, ...],
    iat: datetime,
    exp: datetime | None,
) -> Introspection:
    # RFC 7662 §4: only about the caller's own tokens, of a live grant.
    if grant.app_id != app.id or grant.revoked_at is not None:
        return INACTIVE
    user = await store.user_by_id(grant.user_id)
    if user is None:
        return INACTIVE
    return Introspection(
        active=True,
        scopes=scopes,
        client_id=app.client_id,
        username=user.email,
        sub=user.id,
        token_type=token_type,
        iat=iat,
        exp=exp,
        aud=grant.resource,
    )
