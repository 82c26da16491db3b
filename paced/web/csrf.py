"""CSRF tokens: an HMAC of the session id, or before sign-in of a random cookie."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from paced.web.cookies import Cookies
from paced.web.signing import Signer

COOKIE = "paced_csrf"
FIELD = "csrf_token"


def anonymous_nonce(request: Request, cookies: Cookies) -> tuple[str, bool]:
    """The browser's CSRF cookie value, and whether it must be set (it was missing)."""
    nonce = cookies.get(request, COOKIE) or ""
    if 20 <= len(nonce) <= 64:
        return nonce, False
    return secrets.token_urlsafe(24), True


def token_for(signer: Signer, *, session_id: str | None, nonce: str) -> str:
    if session_id:
        return signer.mac("csrf-session", session_id)
    return signer.mac("csrf-anonymous", nonce)


def set_cookie(response: Response, cookies: Cookies, nonce: str) -> None:
    cookies.set(response, COOKIE, nonce, max_age=60 * 60 * 24 * 365)
