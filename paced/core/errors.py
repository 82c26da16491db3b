"""One error tree for every rule the core enforces.

    PacedError                      description: safe to show the client; debug: logs only
    ├── NotFound                    an object that does not exist or is not the caller's
    ├── Invalid                     form input, with a message per field
    ├── Conflict                    e.g. an email already registered
    ├── BearerError                 RFC 6750 §3.1 (the API)
    │   ├── MissingCredentials      401, no `error` attribute
    │   ├── InvalidBearerRequest    400 invalid_request
    │   ├── InvalidToken            401 invalid_token
    │   └── InsufficientScope       403 insufficient_scope
    └── OAuthError                  RFC 6749 §4.1.2.1 and §5.2
        ├── InvalidRequest, InvalidClient, InvalidGrant, UnauthorizedClient,
        ├── UnsupportedGrantType, InvalidScope, AccessDenied,
        ├── UnsupportedResponseType, ServerError,
        ├── InvalidTarget               RFC 8707 §2 (resource indicators)
        ├── InvalidRedirectUri, InvalidClientMetadata   RFC 7591 §3.2.2 (registration)
        └── DevicePollError             RFC 8628 §3.5, the device grant's polling answers
            ├── AuthorizationPending, SlowDown    (the client keeps polling)
            └── DeviceAccessDenied, ExpiredToken  (the client stops)

The web layer turns each into its wire form in exactly one place (`paced.web.errors`).
"""

from __future__ import annotations

from collections.abc import Mapping

# RFC 6749 §5.2: an error_description holds only %x20-21 / %x23-5B / %x5D-7E.
_SHOWABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def shown(value: str, limit: int = 40) -> str:
    """Client input quoted in a description: RFC 6749 §5.2's characters only, and short,
    so that it fits a JSON body, a redirect's query and a header alike."""
    kept = "".join(c if c in _SHOWABLE else "?" for c in value[: limit + 1])
    return kept if len(kept) <= limit else kept[: limit - 3] + "..."


class PacedError(Exception):
    error: str = "server_error"
    status: int = 500

    def __init__(self, description: str = "", *, debug: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.debug = debug


class NotFound(PacedError):
    error = "not_found"
    status = 404


class Conflict(PacedError):
    error = "conflict"
    status = 409


class Invalid(PacedError):
    """Input that breaks a rule; `fields` maps a form field to its message."""

    error = "invalid"
    status = 400

    def __init__(self, description: str = "", *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(description or "; ".join((fields or {}).values()))
        self.fields: dict[str, str] = dict(fields or {})


# --- Bearer (RFC 6750) -----------------------------------------------------------


class BearerError(PacedError):
    status = 401


class MissingCredentials(BearerError):
    error = "unauthorized"
    status = 401


class InvalidBearerRequest(BearerError):
    error = "invalid_request"
    status = 400


class InvalidToken(BearerError):
    error = "invalid_token"
    status = 401


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    status = 403

    def __init__(self, description: str = "", *, scope: str) -> None:
        super().__init__(description)
        self.scope = scope


# --- OAuth 2 (RFC 6749) ----------------------------------------------------------


class OAuthError(PacedError):
    status = 400


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidTarget(OAuthError):
    error = "invalid_target"


class InvalidRedirectUri(OAuthError):
    error = "invalid_redirect_uri"


class InvalidClientMetadata(OAuthError):
    error = "invalid_client_metadata"


class ServerError(OAuthError):
    error = "server_error"
    status = 500


# --- The device authorization grant (RFC 8628 §3.5) ---------------------------------


class DevicePollError(OAuthError):
    """An answer to a device-code poll at the token endpoint: status 400, as RFC 6749 §5.2."""


class AuthorizationPending(DevicePollError):
    """The user has not answered yet; the client polls again after the interval. Part of
    the protocol, not a failure: the rate limits do not count it as one."""

    error = "authorization_pending"


class SlowDown(DevicePollError):
    """Polled before the interval was over; the interval grew by 5 seconds."""

    error = "slow_down"


class DeviceAccessDenied(DevicePollError):
    error = "access_denied"


class ExpiredToken(DevicePollError):
    error = "expired_token"


class RateLimited(PacedError):
    error = "rate_limited"
    status = 429

    def __init__(self, description: str = "", *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after
