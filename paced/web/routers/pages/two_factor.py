"""The second step of a sign-in (/login/two-factor): a code from the authenticator app, a
recovery code, or a passkey. `signed_in` starts the session of any completed sign-in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import passkeys, sessions, two_factor
from paced.core.errors import Invalid, RateLimited
from paced.core.records import User
from paced.web import device as device_cookie
from paced.web import metrics, second_step
from paced.web.deps import Viewer, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of
from paced.web.routers.pages.accounts import start_session
from paced.web.second_step import Pending

router = APIRouter(include_in_schema=False)

PAGE = "/login/two-factor"
PASSKEY_PAGE = "/login/two-factor/passkey"
AGAIN = "Your sign-in took too long. Enter your email and password again."


async def signed_in(
    request: Request,
    context: ViewerContext,
    user: User,
    method: str,
    next_path: str,
) -> Response:
    """The session starts now; the half-signed-in state, if any, ends."""
    state = context.state
    async with state.database.unit_of_work() as store:
        now = state.clock()
        await two_factor.signed_in(store, user, method, now, origin=origin_of(request))
        if context.session_id:
            await sessions.end(store, context.session_id)
        session_id = await sessions.start(
            store,
            user.id,
            now,
            ip=origin_of(request).ip,
            user_agent=request.headers.get("user-agent", ""),
        )
    response = start_session(context, session_id, next_path)
    second_step.forget(response, state)
    device_cookie.remember(request, response, state, user.id)
    return response


async def _page(
    context: ViewerContext,
    pending: Pending,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    async with context.state.database.reading() as store:
        status = await two_factor.status_of(store, pending.user_id)
    return context.render(
        "two_factor/second_step.html",
        {"status": status, "errors": errors or {}},
        status_code=status_code,
        headers=headers,
    )


def _start_again(context: ViewerContext) -> Response:
    response = redirect(context, "/login", flash=AGAIN)
    second_step.forget(response, context.state)
    return response


@router.get(PAGE)
async def second_step_page(request: Request, context: Viewer) -> Response:
    pending = second_step.pending(request, context.state)
    if pending is None:
        return _start_again(context)
    return await _page(context, pending)


async def _counted(request: Request, context: ViewerContext, pending: Pending) -> Response | None:
    """Count a second-step attempt toward the sign-in limits before it is checked;
    the page with a 429 when the limit is reached."""
    try:
        await context.state.rate_limits.sign_in_attempt(origin_of(request).ip, pending.limit_key)
    except RateLimited as error:
        metrics.rate_limited(PAGE)
        return await _page(
            context,
            pending,
            errors={"code": error.description},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    return None


@router.post(PAGE)
async def second_step_code(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    state = context.state
    pending = second_step.pending(request, state)
    if pending is None:
        return _start_again(context)
    refused = await _counted(request, context, pending)
    if refused is not None:
        return refused
    try:
        async with state.database.unit_of_work() as store:
            passed = await two_factor.second_step(
                store,
                state.totp_box,
                pending.user_id,
                text(form, "code", 200),
                state.clock(),
                origin=origin_of(request),
                policy=state.policy,
            )
    except Invalid as error:
        metrics.auth_failed("login", "second_factor")
        return await _page(context, pending, errors=error.fields, status_code=400)
    if passed is None:
        return _start_again(context)
    await state.rate_limits.sign_in_succeeded(origin_of(request).ip, pending.limit_key)
    return await signed_in(request, context, passed.user, passed.method, pending.next_path)


# --- A passkey as the second step --------------------------------------------------------------


def ceremony(context: ViewerContext, values: dict[str, Any]) -> Response:
    return context.render("two_factor/passkey.html", values, headers={"Cache-Control": "no-store"})


@router.post(PASSKEY_PAGE)
async def second_step_passkey_start(request: Request, context: Viewer) -> Response:
    await checked_form(request, context)
    state = context.state
    pending = second_step.pending(request, state)
    if pending is None:
        return _start_again(context)
    async with state.database.unit_of_work() as store:
        await passkeys.start(
            store,
            pending.binding,
            "second_step",
            state.clock(),
            state.policy,
            user_id=pending.user_id,
        )
    return redirect(context, PASSKEY_PAGE)


@router.get(PASSKEY_PAGE)
async def second_step_passkey_page(request: Request, context: Viewer) -> Response:
    state = context.state
    pending = second_step.pending(request, state)
    if pending is None:
        return _start_again(context)
    async with state.database.reading() as store:
        options = await passkeys.authentication_options(
            store, state.relying_party, pending.binding, "second_step", state.clock(), state.policy
        )
    if options is None:
        return redirect(context, PAGE)
    return ceremony(
        context,
        {
            "title": "Use your passkey",
            "mode": "get",
            "options": options,
            "action": PASSKEY_PAGE + "/verify",
            "button": "Use my passkey",
            "back": PAGE,
            "next": "",
        },
    )


@router.post(PASSKEY_PAGE + "/verify")
async def second_step_passkey(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    state = context.state
    pending = second_step.pending(request, state)
    if pending is None:
        return _start_again(context)
    refused = await _counted(request, context, pending)
    if refused is not None:
        return refused
    origin = origin_of(request)
    try:
        async with state.database.unit_of_work() as store:
            user = await passkeys.second_step(
                store,
                state.relying_party,
                pending.binding,
                pending.user_id,
                text(form, "credential", passkeys.MAX_CREDENTIAL + 1),
                state.clock(),
                origin=origin,
            )
    except Invalid as error:
        metrics.auth_failed("login", "second_factor")
        return await _page(
            context, pending, errors={"code": error.fields["passkey"]}, status_code=400
        )
    if user is None:
        return _start_again(context)
    await state.rate_limits.sign_in_succeeded(origin.ip, pending.limit_key)
    return await signed_in(request, context, user, "passkey", pending.next_path)
