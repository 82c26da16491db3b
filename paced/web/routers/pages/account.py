"""/settings/account: name, time zone, password, and signing out everywhere."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import accounts, sessions
from paced.core.errors import Invalid, RateLimited
from paced.web import metrics
from paced.web.deps import SESSION_COOKIE, SignedIn, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of
from paced.web.ratelimit import account_key

router = APIRouter(include_in_schema=False)


def page(
    context: ViewerContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return context.render(
        "settings/account.html",
        {"errors": errors or {}, "values": values or {}, "time_zones": accounts.TIME_ZONES},
        status_code=status_code,
        headers=headers,
    )


@router.get("/settings/account")
async def account_page(context: SignedIn) -> Response:
    return page(context)


@router.post("/settings/account/profile")
async def update_profile(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None
    values = {"name": text(form, "name", 1000), "time_zone": text(form, "time_zone", 200)}
    try:
        async with context.state.database.unit_of_work() as store:
            await accounts.update_profile(
                store,
                context.user,
                name=values["name"],
                time_zone=values["time_zone"],
                now=context.state.clock(),
            )
    except Invalid as error:
        return page(context, errors=error.fields, values=values, status_code=400)
    return redirect(context, "/settings/account", flash="Your profile is saved.")


@router.post("/settings/account/password")
async def change_password(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None and context.session_id is not None
    state = context.state
    origin = origin_of(request)
    # docs/reference.md §6: the current password is a guess at the account's password like
    # a sign-in, counted before it is checked, so that a stolen session cannot brute-force it.
    async with state.database.reading() as store:
        credentials = await accounts.find_credentials(store, context.user.email)
    limit_key = account_key(context.user.email, credentials.unlocked_at if credentials else None)
    try:
        await state.rate_limits.sign_in_attempt(origin.ip, limit_key)
    except RateLimited as error:
        metrics.rate_limited("/settings/account/password")
        return page(
            context,
            errors={"current_password": error.description},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    try:
        change = await accounts.check_password_change(
            credentials,
            context.user,
            text(form, "current_password", 4096),
            text(form, "new_password", 4096),
            state.policy.password_hashing,
        )
    except accounts.WrongCurrentPassword as error:
        async with state.database.unit_of_work() as store:
            await accounts.password_change_failed(store, context.user, state.clock(), origin=origin)
        return page(context, errors=error.fields, status_code=400)
    except Invalid as error:
        await state.rate_limits.sign_in_succeeded(origin.ip, limit_key)
        return page(context, errors=error.fields, status_code=400)
    await state.rate_limits.sign_in_succeeded(origin.ip, limit_key)
    try:
        async with state.database.unit_of_work() as store:
            await accounts.change_password(
                store,
                context.user,
                change,
                state.clock(),
                origin=origin,
                session_id=context.session_id,
            )
    except Invalid as error:
        return page(context, errors=error.fields, status_code=400)
    state.mail.wake()
    return redirect(
        context,
        "/settings/account",
        flash="Your password is changed. Every other session of your account is signed out.",
    )


@router.post("/settings/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    async with context.state.database.unit_of_work() as store:
        await sessions.end_all(store, context.user.id)
    response = redirect(context, "/login", flash="You are signed out on every device.")
    context.state.cookies.delete(response, SESSION_COOKIE)
    return response
