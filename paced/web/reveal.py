"""Showing a new secret once (docs/reference.md §7): never in a URL, never again on reload.

The POST that makes a secret answers 303 to the page that shows it, and carries the
secret there in a short-lived cookie: encrypted (AES-GCM), bound to the session and to that page,
HttpOnly, SameSite=Strict, and worthless after `MAX_AGE` seconds (the deadline is inside
the sealed value, not left to the browser). It is also single-use: it carries a nonce
that the session's row expects once (`paced.core.sessions.spend_reveal`), so the same
cookie sent again, by a browser that kept it or by whoever copied it, shows nothing,
on whichever node it arrives. The page deletes it in the same response, and is sent
with `Cache-Control: no-store`; a reload shows nothing.

    response = redirect(context, page)
    await reveal.keep(response, context, secret, page=page)
    ...
    return await reveal.render(context, "x.html", {...})  # on GET `page`: {"secret": str | None}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from paced.core import sessions
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


async def keep(
    response: Response, context: ViewerContext, secret: str, *, page: str, about: str = ""
) -> Response:
    """Carry `secret` to the next display of `page` (a path), and to nothing else."""
    response.headers.update(NO_STORE)
    if context.session_id is None:  # only a signed-in page makes secrets
        return response
    async with context.state.database.unit_of_work() as store:
        nonce = await sessions.expect_reveal(store, context.session_id)
    until = int(context.state.clock().timestamp()) + MAX_AGE
    value = json.dumps({"secret": secret, "about": about, "until": until, "nonce": nonce})
    sealed = context.state.signer.seal(_purpose(context, page), value)
    context.state.cookies.set(response, COOKIE, sealed, max_age=MAX_AGE, samesite="strict")
    return response


async def take(context: ViewerContext) -> Revealed | None:
    """What was carried to the page being shown, if anything (then call `forget`)."""
    sealed = context.state.cookies.get(context.request, COOKIE)
    if not sealed or context.session_id is None:
        return None
    value = context.state.signer.open(_purpose(context, context.request.url.path), sealed)
    if value is None:
        return None
    try:
        carried = json.loads(value)
        secret, about, until, nonce = (
            carried["secret"],
            carried["about"],
            carried["until"],
            carried["nonce"],
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(until, int) or until < context.state.clock().timestamp():
        return None
    async with context.state.database.unit_of_work() as store:
        if not await sessions.spend_reveal(store, context.session_id, str(nonce)):
            return None
    return Revealed(str(secret), str(about))


def forget(response: Response, context: ViewerContext) -> Response:
    """Delete the cookie: what it carried is shown at most once."""
    if context.state.cookies.get(context.request, COOKIE) is not None:
        context.state.cookies.delete(response, COOKIE, samesite="strict")
    return response


async def render(
    context: ViewerContext,
    template: str,
    values: dict[str, Any],
    *,
    name: str = "secret",
    status_code: int = 200,
) -> Response:
    """Render a page that may show a secret: at most once, and never cached."""
    revealed = await take(context)
    response = context.render(
        template,
        {**values, name: revealed.secret if revealed else None},
        status_code=status_code,
        headers=dict(NO_STORE),
    )
    return forget(response, context)
