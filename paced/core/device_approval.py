"""The user's answer to a device authorization, at /device (RFC 8628 §3.3).

A signed-in person types the user code their device shows, sees the same consent screen
as an authorization request, and approves or denies. The screen is always shown: the
person must confirm that the code came from their own device, since a stranger could
have sent them someone else's (RFC 8628 §5.4). An approval makes a grant, as the consent
screen does, and attaches it to the device code, whose client then redeems it once at
the token endpoint (`core.device_grant`).

Every code that cannot be answered (unknown, expired, already answered, or of an app that
has turned the device flow off) is `WrongUserCode`, which /device counts towards the
account's limit on wrong codes (RFC 8628 §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import consent
from paced.core.device_authorization import (
    normalized_user_code,
    shown_user_code,
    user_code_digest,
)
from paced.core.errors import Invalid
from paced.core.records import DeviceCode, Grant, User
from paced.core.security_log import Origin
from paced.core.store import ConsentStore, DeviceCodes, GrantRevocation


class DeviceApprovalStore(
    ConsentStore, DeviceCodes, GrantRevocation, consent.ApprovalLog, Protocol
):
    pass


class DeviceLookupStore(DeviceCodes, consent.OwnerStore, Protocol):
    pass


class WrongUserCode(Invalid):
    """A user code that cannot be answered; the message says why, in the form's field."""

    def __init__(self, message: str) -> None:
        super().__init__(fields={"user_code": message})


UNKNOWN = "That code is not valid. Check the code your device shows and try again."
EXPIRED = "That code has expired. Start again on your device to get a new one."
ANSWERED = "That code has already been used. Start again on your device to get a new one."


@dataclass(frozen=True, slots=True)
class PendingDevice:
    """A device authorization waiting for the person's answer, with what the consent
    screen shows: the app's owner (None when gone)."""

    code: DeviceCode
    user_code: str  # XXXX-XXXX
    owner: User | None


async def _pending(store: DeviceCodes, typed: str, now: datetime) -> tuple[DeviceCode, str]:
    normalized = normalized_user_code(typed)
    if normalized is None:
        raise WrongUserCode(UNKNOWN)
    code = await store.device_code_by_user_code(user_code_digest(normalized))
    if code is None or not code.app.device_flow:
        raise WrongUserCode(UNKNOWN)
    if now >= code.expires_at:
        raise WrongUserCode(EXPIRED)
    if code.grant is not None or code.denied_at is not None:
        raise WrongUserCode(ANSWERED)
    return code, shown_user_code(normalized)


async def find(store: DeviceLookupStore, typed: str, now: datetime) -> PendingDevice:
    """The device authorization this user code names, for the consent screen."""
    code, shown = await _pending(store, typed, now)
    # The same screen as /oauth/authorize's, which names the app's owner (if any).
    screen = await consent.screen_of(store, code.app)
    return PendingDevice(code, shown, screen.owner)


async def approve(
    store: DeviceApprovalStore, typed: str, user: User, now: datetime, *, origin: Origin
) -> Grant:
    """A new grant of the code's scopes to its app, bound to the resource the device
    named (RFC 8707), attached to the device code."""
    code, _ = await _pending(store, typed, now)
    grant = consent.new_grant(code.app, user, code.scopes, now, resource=code.resource)
    await store.add_grant(grant, redirect_uri=None)
    # Decided by the conditional update: of two answers at once, one attaches its grant.
    if not await store.approve_device_code(code.digest, grant.id, now):
        # The loser's grant never reaches a token; it is closed at once.
        await store.revoke_grant(grant.id, now)
        raise WrongUserCode(ANSWERED)
    await consent.record_approval(store, grant, code.app, now, origin, consented=True)
    return grant


async def deny(store: DeviceCodes, typed: str, now: datetime) -> DeviceCode:
    """The person refused: the device's next poll gets `access_denied` (RFC 8628 §3.5)."""
    code, _ = await _pending(store, typed, now)
    if not await store.deny_device_code(code.digest, now):
        raise WrongUserCode(ANSWERED)
    return code
