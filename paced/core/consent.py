"""The user's answer to an authorization request (RFC 6749 §4.1.2).

An approval becomes a grant (the family of everything issued from it, RFC 9700 §4.14) and
a one-time authorization code bound to the client, the redirect URI, the scopes, the user
and the PKCE challenge. The code is handed out once, in the redirect; only its SHA-256
digest is stored.

A user who already granted the app every scope asked for, for this very redirect URI
(the exact string, port included), is not asked again, unless the client sends
`prompt=consent`, or cannot prove who it is (RFC 8252 §8.6).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import notifications, security_log
from paced.core.authorization_request import AuthorizationErrorResponse, AuthorizationRequest
from paced.core.errors import AccessDenied
from paced.core.ids import digest, new_id
from paced.core.mail import MailQueue
from paced.core.policy import Policy
from paced.core.records import App, Grant, User
from paced.core.security_log import Origin
from paced.core.store import ConsentStore, SecurityLog

# 256 bits; opaque to the client (docs/reference.md §3).
CODE_BYTES = 32


class ApprovalLog(SecurityLog, MailQueue, Protocol):
    pass


class ApprovalStore(ConsentStore, ApprovalLog, Protocol):
    """Approvals, recorded in the user's security log in the same transaction (and told
    of by mail when the user consented on the screen)."""


@dataclass(frozen=True, slots=True)
class Approval:
    grant: Grant
    code: str  # the secret: in the redirect only, never stored or logged
    request: AuthorizationRequest

    def response_parameters(self, issuer: str) -> list[tuple[str, str]]:
        """RFC 6749 §4.1.2 (`code`, `state`) and RFC 9207 §2 (`iss`)."""
        pairs = [("code", self.code)]
        if self.request.state is not None:
            pairs.append(("state", self.request.state))
        pairs.append(("iss", issuer))
        return pairs


def identity_assured(request: AuthorizationRequest) -> bool:
    """Whether a client's identity is proven well enough to reuse an earlier approval: a
    confidential client (it must authenticate to use the code), or one whose redirect
    goes to an https origin. A loopback or private-use redirect can be claimed by any
    app on the device (RFC 8252 §8.6). A client that registered itself, or is known by
    its metadata document, is anyone's to claim: nobody reviewed it, so the user is asked
    every time."""
    if not request.app.reviewed:
        return False
    return not request.app.public or request.redirect_uri.startswith("https://")


async def needs_consent(store: ConsentStore, request: AuthorizationRequest, user: User) -> bool:
    """False when the consent screen may be skipped: earlier, unrevoked approvals of this
    app by this user, for this redirect URI, already cover every scope asked for."""
    if request.force_consent or not identity_assured(request):
        return True
    # RFC 6749 §10.2: a repeated request is answered without the user only where the
    # approval sent it, to the character; another loopback port may be another program.
    granted = await store.granted_scopes(user.id, request.app.id, request.redirect_uri)
    return not granted.issuperset(request.scopes)


class OwnerStore(Protocol):
    async def user_by_id(self, user_id: str) -> User | None: ...


class ScreenStore(ConsentStore, OwnerStore, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Screen:
    """What the consent screen shows beyond the request itself: who registered the app
    (None when its owner is gone)."""

    owner: User | None


async def screen(store: ScreenStore, request: AuthorizationRequest, user: User) -> Screen | None:
    """The consent screen to show `user`, or None when it may be skipped
    (`needs_consent`)."""
    if not await needs_consent(store, request, user):
        return None
    return await screen_of(store, request.app)


async def screen_of(store: OwnerStore, app: App) -> Screen:
    """The consent screen for `app`, always shown (as at /device, RFC 8628 §5.4); an app
    that registered itself has no owner to name."""
    owner_id = app.owner_id
    return Screen(owner=await store.user_by_id(owner_id) if owner_id is not None else None)


async def approve(
    store: ApprovalStore,
    request: AuthorizationRequest,
    user: User,
    now: datetime,
    policy: Policy,
    *,
    origin: Origin,
    consented: bool = False,
) -> Approval:
    """A new grant and its code, whether the user clicked Authorize or the screen was
    skipped: every approval is a family of its own. `consented`: the user clicked
    Authorize, which their mailbox is told of (a skipped screen authorized nothing new)."""
    grant = new_grant(request.app, user, request.scopes, now, resource=request.resource)
    code = secrets.token_urlsafe(CODE_BYTES)
    if request.app.registration == "document":
        # Its first approval stores it; later ones keep it as its document now says.
        await store.save_document_client(request.app)
    await store.add_grant(grant, redirect_uri=request.redirect_uri)
    await store.add_authorization_code(
        digest=digest(code),
        grant_id=grant.id,
        redirect_uri=request.requested_redirect_uri,
        code_challenge=request.code_challenge,
        created_at=now,
        # RFC 6749 §4.1.2: a short lifetime (PACED_AUTH_CODE_TTL).
        expires_at=now + policy.auth_code_ttl,
    )
    await record_approval(store, grant, request.app, now, origin, consented=consented)
    return Approval(grant=grant, code=code, request=request)


def new_grant(
    app: App, user: User, scopes: tuple[str, ...], now: datetime, *, resource: str | None
) -> Grant:
    """The family of one approval, on the consent screen or at /device; bound to the API
    when the request named it (RFC 8707)."""
    return Grant(
        id=new_id("grant"),
        app_id=app.id,
        user_id=user.id,
        scopes=scopes,
        created_at=now,
        last_used_at=None,
        revoked_at=None,
        resource=resource,
    )


async def record_approval(
    store: ApprovalLog, grant: Grant, app: App, now: datetime, origin: Origin, *, consented: bool
) -> None:
    """The approval in the security log; and when the person clicked Authorize (on the
    consent screen or at /device), told to them by mail."""
    await security_log.record(
        store,
        "grant_approved",
        now,
        origin,
        user_id=grant.user_id,
        detail={
            "grant_id": grant.id,
            "app_id": app.id,
            "name": app.name,
            "client_id": app.client_id,
            "scopes": list(grant.scopes),
        },
    )
    if consented:
        await notifications.app_authorized(
            store,
            grant.user_id,
            app_name=app.name,
            client_id=app.client_id,
            scopes=grant.scopes,
            now=now,
            origin=origin,
        )


def deny(request: AuthorizationRequest) -> AuthorizationErrorResponse:
    """RFC 6749 §4.1.2.1: the resource owner denied the request."""
    return request.redirect_to_client(AccessDenied("The user denied the request."))
