"""The device code grant at the token endpoint (RFC 8628 §3.4, §3.5).

The client polls with its device code until the person answers at /device. Its checks,
in order, each with its answer:

    1. client authentication as for any grant                     -> invalid_client
    2. device_code present                                        -> invalid_request
    3. a device code issued to this very client                   -> invalid_grant
    4. not redeemed before                                        -> invalid_grant
    5. the app still allows the device flow                       -> unauthorized_client
    6. not expired                                                -> expired_token
    7. not denied                                                 -> access_denied
    8. resource: absent, or the API (RFC 8707)                    -> invalid_target
    9. while unanswered: polled no sooner than the interval       -> slow_down (+5 s)
                         otherwise                                -> authorization_pending
   10. approved: the grant not revoked since                      -> invalid_grant
   11. resource: the one the grant is bound to, if any            -> invalid_target
   12. redeemed once, by a conditional update                     -> the token pair

A poll records its time, and a poll too soon its longer interval, although the answer is
an error: the unit of work commits on a `PacedError`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NoReturn, Protocol

from paced.core import client_auth, token_issuance
from paced.core import resource as resources
from paced.core.client_auth import ClientCredentials
from paced.core.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidGrant,
    InvalidRequest,
    SlowDown,
    UnauthorizedClient,
)
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import DeviceCode
from paced.core.store import ClientStore, DeviceCodes, TokenIssuance
from paced.core.token_issuance import IssuedTokens

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
NOT_ENABLED = "This application has not enabled the device flow."
INVALID = "The device code is invalid."
USED = "The device code has already been used."


class DeviceGrantStore(ClientStore, DeviceCodes, TokenIssuance, Protocol):
    pass


async def redeem(
    store: DeviceGrantStore,
    credentials: ClientCredentials,
    device_code: str | None,
    now: datetime,
    policy: Policy,
    *,
    resource: str | None = None,
) -> IssuedTokens:
    # RFC 8628 §3.4: the client authenticates as for any grant; a public one by its id.
    app = await client_auth.authenticate(store, credentials, now, policy)
    # RFC 8628 §3.4: device_code is required.
    if device_code is None:
        raise InvalidRequest("The device_code parameter is missing.")
    code = await store.device_code_by_digest(digest(device_code))
    # RFC 6749 §5.2: unknown, or issued to another client.
    if code is None:
        raise InvalidGrant(INVALID, debug="unknown device code")
    if code.app.id != app.id:
        raise InvalidGrant(INVALID, debug="device code of another client")
    # Once redeemed, the code is spent.
    if code.used_at is not None:
        raise InvalidGrant(USED)
    # The owner may have turned the device flow off since the code was issued.
    if not app.device_flow:
        raise UnauthorizedClient(NOT_ENABLED)
    # RFC 8628 §3.5: expired_token once the code's lifetime is over.
    if now >= code.expires_at:
        raise ExpiredToken("The device code has expired. Start again.")
    # RFC 8628 §3.5: access_denied once the person refused.
    if code.denied_at is not None:
        raise DeviceAccessDenied("The user denied the request.")
    # RFC 8707 §2: the one resource is the API, whether or not the person has answered.
    resources.checked(resource, policy.issuer)
    if code.grant is None:
        await _pending(store, code, now, policy)
    grant = code.grant
    # The person may have revoked the application meanwhile.
    if grant.revoked_at is not None:
        raise InvalidGrant("The authorization has been revoked.", debug="grant revoked")
    # RFC 8707 §2.2: only what the authorization was given for; refused before the code
    # is spent, so that the right request still works.
    resources.bound(resource, policy.issuer, grant.resource)
    # The family's row first, as every writer of a family does (core.token_issuance).
    await store.touch_grant(grant.id, now)
    # Single use, decided by the conditional update: of concurrent polls, one wins.
    if not await store.consume_device_code(code.digest, now):
        raise InvalidGrant(USED, debug="lost the race to redeem the device code")
    return await token_issuance.issue(
        store, grant, now, policy, access_scopes=grant.scopes, refresh_scopes=grant.scopes
    )


async def _pending(store: DeviceCodes, code: DeviceCode, now: datetime, policy: Policy) -> NoReturn:
    """Unanswered: record the poll, and say whether it came too soon (RFC 8628 §3.5)."""
    interval = timedelta(seconds=code.interval)
    if await store.poll_device_code(code.digest, now, now + interval):
        raise AuthorizationPending("The user has not answered yet. Poll again later.")
    # A poll before the interval was over: the interval grows, for this and every later
    # poll, and is counted from now.
    step = int(policy.device_slow_down.total_seconds())
    longer = code.interval + step
    await store.slow_down_device_code(code.digest, step, now + timedelta(seconds=longer))
    raise SlowDown(f"Polling too fast. Wait at least {longer} seconds between requests.")
