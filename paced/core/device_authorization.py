"""The device authorization endpoint (RFC 8628 §3.1, §3.2): a client on a device with no
browser, or no keyboard worth typing on, asks for a pair of codes.

    device_code   a secret for the client alone, 256 bits; it polls the token endpoint
                  with it (`core.device_grant`)
    user_code     8 characters of BCDFGHJKLMNPQRSTVWXZ shown as XXXX-XXXX, which a person
                  types at /device (`core.device_approval`)

Both are stored only as SHA-256 digests. A user code is short enough to type and so to
guess (20^8, about 2.6e10): it lives `Policy.device_code_ttl`, and wrong codes entered at
/device are limited per account (RFC 8628 §5.1). A digest keeps it out of a database dump
only for as long as it takes to try every code, which is fine for something that expires
within minutes; the uniqueness of the digests keeps two live codes apart.

The request's checks, in order:

    1. the body is a form, no parameter repeated                       -> invalid_request
       (a repeated `resource` names several resources, RFC 8707 §2)    -> invalid_target
    2. client authentication as at the token endpoint                  -> invalid_client
    3. the app allows the device flow (`Enable device flow`)           -> unauthorized_client
    4. scope: known scopes; none means `read`                          -> invalid_scope
    5. resource: absent, or the API (RFC 8707); the grant made at
       /device is bound to it, and so are its tokens                   -> invalid_target
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import client_auth, scopes
from paced.core import resource as resources
from paced.core.device_grant import NOT_ENABLED
from paced.core.errors import ServerError, UnauthorizedClient
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import DeviceCode
from paced.core.store import ClientStore, DeviceCodes
from paced.core.token_endpoint import FormRequest, parse_form, value

ENDPOINT = "/oauth/device_authorization"
VERIFICATION_PATH = "/device"
# RFC 8628 §6.1: consonants only (no vowels, so no words), upper case, unambiguous.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEVICE_CODE_BYTES = 32
# Draws of a user code before giving up: each collides with a live one with a chance of
# (live codes) / 2.6e10, so a second draw is already rare.
DRAWS = 5
# What a person may type: the code with dashes, spaces, any case (RFC 8628 §6.1).
MAX_TYPED = 40
_IGNORED = re.compile(r"[\s\-]+")


class DeviceAuthorizationStore(ClientStore, DeviceCodes, Protocol):
    pass


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalized_user_code(typed: str) -> str | None:
    """The user code a person typed, without dashes or spaces, in upper case; None when
    it cannot be one (RFC 8628 §6.1: compared case- and punctuation-insensitively)."""
    if len(typed) > MAX_TYPED:
        return None
    code = _IGNORED.sub("", typed).upper()
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


def shown_user_code(code: str) -> str:
    """XXXX-XXXX: easier to read out and copy (RFC 8628 §6.1)."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def user_code_digest(code: str) -> str:
    """The digest a normalized user code is stored and found under."""
    return digest("user_code:" + code)


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """The device authorization response (RFC 8628 §3.2); the codes are shown only here."""

    device_code: str
    user_code: str  # normalized; shown as XXXX-XXXX
    expires_in: int
    interval: int

    def body(self, issuer: str) -> dict[str, object]:
        shown = shown_user_code(self.user_code)
        verification_uri = issuer.rstrip("/") + VERIFICATION_PATH
        return {
            "device_code": self.device_code,
            "user_code": shown,
            "verification_uri": verification_uri,
            # §3.3.1: the code in the URI, for a QR code; /device still asks to confirm it.
            "verification_uri_complete": f"{verification_uri}?user_code={shown}",
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


async def authorize_device(
    store: DeviceAuthorizationStore, request: FormRequest, now: datetime, policy: Policy
) -> DeviceAuthorization:
    """The checks of the module docstring, then a new pair of codes."""
    params = parse_form(request.content_type, request.body)
    # RFC 8628 §3.1: client authentication as at the token endpoint (RFC 6749 §2.3).
    credentials = client_auth.read_credentials(request.authorization, params, request.query)
    app = await client_auth.authenticate(store, credentials, now, policy)
    # RFC 6749 §5.2: a client not allowed this grant type.
    if not app.device_flow:
        raise UnauthorizedClient(NOT_ENABLED, debug=f"device flow off for {app.id}")
    # RFC 8628 §3.1, RFC 6749 §3.3: absent means the default scope.
    granted = scopes.parse(value(params, "scope"))
    # RFC 8707 §2: the one resource is the API; anything else is invalid_target.
    resource = resources.checked(value(params, "resource"), policy.issuer)
    interval = int(policy.device_poll_interval.total_seconds())
    device_code = secrets.token_urlsafe(DEVICE_CODE_BYTES)
    for _ in range(DRAWS):
        user_code = new_user_code()
        stored = DeviceCode(
            digest=digest(device_code),
            user_code_digest=user_code_digest(user_code),
            app=app,
            scopes=granted,
            created_at=now,
            expires_at=now + policy.device_code_ttl,
            interval=interval,
            # The first poll may come at once; each later one `interval` after the last.
            next_poll_at=now,
            grant=None,
            denied_at=None,
            used_at=None,
            resource=resource,
        )
        if await store.add_device_code(stored):
            return DeviceAuthorization(
                device_code=device_code,
                user_code=user_code,
                expires_in=int(policy.device_code_ttl.total_seconds()),
                interval=interval,
            )
    raise ServerError("No free user code was found; try again.", debug="user code draws exhausted")
