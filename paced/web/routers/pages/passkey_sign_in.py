"""Signing in with a passkey alone (/login/passkey): no email, no password; the passkey
is a discoverable credential that names its account (docs/two-factor.md)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import passkeys
from paced.core.errors import Invalid, RateLimited
from paced.core.ids import digest
from paced.web import metrics
from paced.web.deps import Viewer, ViewerContext, checked_form, redirect, safe_next, text
from paced.web.origin import origin_of
from paced.web.routers.pages.two_factor import ceremony, signed_in

router = APIRouter(include_in_schema=False)

SIGN_IN_PAGE = "/login/passkey"


def _browser_binding(context: ViewerContext) -> str:
    """What a passkey sign-in's challenge is bound to before anyone is signed in: this
    browser's CSRF cookie."""
    return "browser:" + context.csrf_nonce


@router.post(SIGN_IN_PAGE)
async def passkey_sign_in_start(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    state = context.state
    async with state.database.unit_of_work() as store:
        await passkeys.start(
            store, _browser_binding(context), "sign_in", state.clock(), state.policy
        )
    next_path = safe_next(text(form, "next", 4000))
    return redirect(context, f"{SIGN_IN_PAGE}?next={quote(next_path, safe='/')}")


@router.get(SIGN_IN_PAGE)
async def passkey_sign_in_page(context: Viewer, next: str | None = None) -> Response:
    state = context.state
    async with state.database.reading() as store:
        options = await passkeys.authentication_options(
            store,
            state.relying_party,
            _browser_binding(context),
            "sign_in",
            state.clock(),
            state.policy,
        )
    if options is None:
        return redirect(context, "/login")
    return ceremony(
        context,
        {
            "title": "Sign in with a passkey",
            "mode": "get",
            "options": options,
            "action": SIGN_IN_PAGE + "/verify",
            "button": "Use my passkey",
            "back": "/login",
            "next": safe_next(next),
        },
    )


@router.post(SIGN_IN_PAGE + "/verify")
async def passkey_sign_in(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    state = context.state
    origin = origin_of(request)
    next_path = safe_next(text(form, "next", 4000))
    limit_key = "passkey:" + digest(context.csrf_nonce)[:32]
    try:
        await state.rate_limits.sign_in_attempt(origin.ip, limit_key)
        async with state.database.unit_of_work() as store:
            user = await passkeys.sign_in(
                store,
                state.relying_party,
                _browser_binding(context),
                text(form, "credential", passkeys.MAX_CREDENTIAL + 1),
                state.clock(),
            )
    except RateLimited as error:
        metrics.rate_limited(SIGN_IN_PAGE)
        return context.render(
            "accounts/login.html",
            {"email": "", "error": error.description, "next": next_path},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except Invalid as error:
        metrics.auth_failed("login", "passkey")
        return context.render(
            "accounts/login.html",
            {"email": "", "error": error.description, "next": next_path},
            status_code=400,
        )
    if user is None:
        return redirect(context, "/login")
    await state.rate_limits.sign_in_succeeded(origin.ip, limit_key)
    return await signed_in(request, context, user, "passkey", next_path)
