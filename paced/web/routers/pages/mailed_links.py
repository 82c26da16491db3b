"""The pages of mailed links: asking for a password reset, setting a password from the
link, confirming the email address, and sending the confirmation again
(docs/accounts.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import accounts, email_verification, one_time_links, password_reset, passwords
from paced.core.errors import Invalid, RateLimited
from paced.web import metrics
from paced.web.deps import (
    SESSION_COOKIE,
    SignedIn,
    Viewer,
    ViewerContext,
    checked_form,
    redirect,
    safe_next,
    text,
)
from paced.web.origin import origin_of

router = APIRouter(include_in_schema=False)

# A page whose address holds a one-time token is kept out of caches; every page already
# sends `Referrer-Policy: no-referrer` (paced.web.headers), so the token never leaves in
# a Referer either.
PRIVATE = {"Cache-Control": "no-store"}
SENT = "/password/forgot/sent"


def _forgot(
    context: ViewerContext,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return context.render(
        "accounts/forgot.html",
        {"email": email, "errors": errors or {}},
        status_code=status_code,
        headers=headers,
    )


@router.get("/password/forgot")
async def forgot_page(context: Viewer) -> Response:
    return _forgot(context)


@router.post("/password/forgot")
async def forgot(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    email = text(form, "email", 2000)
    state = context.state
    origin = origin_of(request)
    try:
        accounts.check_email(email)
        # Counted for every address alike, so that the limit tells nothing either.
        await state.rate_limits.password_reset_asked(origin.ip, email)
    except Invalid as error:
        return _forgot(context, email=email, errors=error.fields, status_code=400)
    except RateLimited as error:
        metrics.rate_limited("/password/forgot")
        return _forgot(
            context,
            email=email,
            errors={"email": error.description},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    async with state.database.unit_of_work() as store:
        await password_reset.request_link(store, email, state.clock(), state.policy, origin=origin)
    state.mail.wake()
    return redirect(context, SENT)


@router.get(SENT)
async def forgot_sent(context: Viewer) -> Response:
    return context.render("accounts/forgot_sent.html")


def _reset_page(
    context: ViewerContext,
    token: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return context.render(
        "accounts/reset.html",
        {"token": token, "errors": errors or {}},
        status_code=status_code,
        headers=PRIVATE,
    )


def _unusable(context: ViewerContext, template: str) -> Response:
    return context.render(template, {"token": None, "errors": {}}, status_code=400, headers=PRIVATE)


@router.get("/password/reset/{token}")
async def reset_page(token: str, context: Viewer) -> Response:
    state = context.state
    async with state.database.reading() as store:
        link = await one_time_links.valid(store, token, "password_reset", state.clock())
    if link is None:
        return _unusable(context, "accounts/reset.html")
    return _reset_page(context, token)


@router.post("/password/reset/{token}")
async def reset(token: str, request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    state = context.state
    password = text(form, "password", 4096)
    # A link that cannot be used costs no password hash (nor lets anyone make us hash).
    async with state.database.reading() as store:
        link = await one_time_links.valid(store, token, "password_reset", state.clock())
    if link is None:
        return _unusable(context, "accounts/reset.html")
    try:
        passwords.check_rules(password, field="password")
        new_hash = await passwords.hasher(state.policy.password_hashing).hash(password)
        async with state.database.unit_of_work() as store:
            await password_reset.reset(
                store, token, new_hash, state.clock(), origin=origin_of(request)
            )
    except Invalid as error:
        if error.description == password_reset.LINK_UNUSABLE:
            return _unusable(context, "accounts/reset.html")
        return _reset_page(context, token, errors=error.fields, status_code=400)
    state.mail.wake()
    # Every session ended, this browser's too: it signs in with the new password.
    response = redirect(
        context,
        "/login",
        flash="Your new password is set, and every session is signed out. Sign in with it.",
    )
    state.cookies.delete(response, SESSION_COOKIE)
    return response


@router.get("/verify-email/{token}")
async def verify_page(token: str, context: Viewer) -> Response:
    state = context.state
    async with state.database.reading() as store:
        link = await one_time_links.valid(store, token, "verify_email", state.clock())
    if link is None:
        return _unusable(context, "accounts/verify_email.html")
    return context.render(
        "accounts/verify_email.html", {"token": token, "errors": {}}, headers=PRIVATE
    )


@router.post("/verify-email/{token}")
async def verify(token: str, request: Request, context: Viewer) -> Response:
    await checked_form(request, context)
    state = context.state
    async with state.database.unit_of_work() as store:
        verified = await email_verification.verify(
            store, token, state.clock(), origin=origin_of(request)
        )
    if not verified:
        return _unusable(context, "accounts/verify_email.html")
    location = "/settings/account" if context.user else "/login"
    return redirect(context, location, flash="Your email address is verified. Thank you.")


@router.post("/settings/account/verify-email")
async def resend(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None
    state = context.state
    location = safe_next(text(form, "back", 4000), "/settings/account")
    if context.user.email_verified_at is not None:
        return redirect(context, location, flash="Your email address is verified already.")
    try:
        await state.rate_limits.verification_resent(context.user.id)
    except RateLimited as error:
        metrics.rate_limited("/settings/account/verify-email")
        return redirect(context, location, flash=error.description)
    async with state.database.unit_of_work() as store:
        await email_verification.send_link(
            store, context.user, state.clock(), state.policy, origin=origin_of(request)
        )
    state.mail.wake()
    return redirect(
        context,
        location,
        flash=f"We sent a new link to {context.user.email}. It is valid 24 hours.",
    )
