"""Showing a new secret once (SPEC §7): never in a URL, never again on reload.

The POST that makes a secret answers 303 to the page that shows it, and carries the
secret there in a short-lived cookie: encrypted (AES-GCM), bound to the session and to that page,
HttpOnly, SameSite=Strict, sent only to that page's path, and worthless after `MAX_AGE`
seconds (the deadline is inside the sealed value, not left to the browser). The page
reads it, deletes it in the same response, and is sent with `Cache-Control: no-store`;
a reload shows nothing.

    response = redirect(context, page)
    reveal.keep(response, context, secret, page=page)
    ...
    return reveal.render(context, "x.html", {...})    # on GET `page`: {"secret": str | None}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from paced.web.deps import ViewerContext

COOKIE = "paced_reveal"
# Long enough to follow the redirect on a slow connection, short enough to be gone soon.
MAX_AGE = 300
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class Revealed:
    secret: str
    about: str  # what the secret belongs to (an id), when the page needs to know


def _purpose(context: ViewerContext, page: str) -> str:
    return f"reveal\x00{context.session_id or ''}\x00{page}"


def keep(
    response: Response, context: ViewerContext, secret: str, *, page: str, about: str = ""
) -> Response:
    """Carry `secret` to the next display of `page` (a path), and to nothing else."""
    until = int(context.state.clock().timestamp()) + MAX_AGE
    value = json.dumps({"secret": secret, "about": about, "until": until})
    response.set_cookie(
        COOKIE,
        context.state.signer.seal(_purpose(context, page), value),
        max_age=MAX_AGE,
        path=page,
        httponly=True,
        samesite="strict",
        secure=context.state.secure_cookies,
    )
    response.headers.update(NO_STORE)
    return response


def take(context: ViewerContext) -> Revealed | None:
    """What was carried to the page being shown, if anything (then call `forget`)."""
    signed = context.request.cookies.get(COOKIE)
    if not signed:
        return None
    value = context.state.signer.open(_purpose(context, context.request.url.path), signed)
    if value is None:
        return None
    try:
        carried = json.loads(value)
        secret, about, until = carried["secret"], carried["about"], carried["until"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(until, int) or until < context.state.clock().timestamp():
        return None
    return Revealed(str(secret), str(about))


def forget(response: Response, context: ViewerContext) -> Response:
    """Delete the cookie: what it carried is shown at most once."""
    if COOKIE in context.request.cookies:
        response.delete_cookie(
            COOKIE,
            path=context.request.url.path,
            httponly=True,
            samesite="strict",
            secure=context.state.secure_cookies,
        )
    return response


def render(
    context: ViewerContext,
    template: str,
    values: dict[str, Any],
    *,
    name: str = "secret",
    status_code: int = 200,
) -> Response:
    """Render a page that may show a secret: at most once, and never cached."""
    revealed = take(context)
    response = context.render(
        template,
        {**values, name: revealed.secret if revealed else None},
        status_code=status_code,
        headers=dict(NO_STORE),
    )
    return forget(response, context)
