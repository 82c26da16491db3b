"""Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
browser that signed in to an account successfully carries a signed cookie naming that
account and a random nonce of its own. Its later sign-ins to that account count against
the nonce instead of against the account (`paced.web.ratelimit.device_key`), so that a
stranger's failed guesses, which lock the account for every other browser, cannot lock
out the browser its owner uses. A stolen device cookie buys no more guesses than the
account's own limit: the same limit applies to each nonce.

The cookie says nothing secret: the account's public id and the nonce, signed with the
secret key so that it cannot be made for an account without signing in to it.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from paced.web.state import AppState

COOKIE = "paced_device"
# Long enough to outlive any lockout the owner could meet.
MAX_AGE = 365 * 24 * 3600
_PURPOSE = "device"


def trusted(request: Request, state: AppState, user_id: str) -> str | None:
    """The nonce of this browser's device cookie for `user_id`, when it has a valid one."""
    signed = state.cookies.get(request, COOKIE)
    if not signed:
        return None
    value = state.signer.unsign(_PURPOSE, signed)
    if value is None:
        return None
    owner, _, nonce = value.partition(" ")
    return nonce if owner == user_id and nonce else None


def remember(request: Request, response: Response, state: AppState, user_id: str) -> None:
    """Mark this browser as one that signed in to `user_id`; a browser already marked for
    the account keeps its nonce, so that its count of failures goes on."""
    nonce = trusted(request, state, user_id) or secrets.token_urlsafe(16)
    signed = state.signer.sign(_PURPOSE, f"{user_id} {nonce}")
    state.cookies.set(response, COOKIE, signed, max_age=MAX_AGE)
