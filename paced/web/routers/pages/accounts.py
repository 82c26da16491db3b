"""Sign-up, log-in and log-out (docs/reference.md §7)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import accounts, email_verification, sessions, two_factor
from paced.core.errors import Conflict, Invalid, RateLimited
from paced.web import device as device_cookie
from paced.web import metrics, second_step
from paced.web.deps import (
    SESSION_COOKIE,
    Viewer,
    ViewerContext,
    checked_form,
    redirect,
    safe_next,
    text,
)
from paced.web.origin import origin_of
from paced.web.ratelimit import account_key, device_key

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def start_session(context: ViewerContext, session_id: str, location: str) -> Response:
    response = redirect(context, location)
    context.state.cookies.set(
        response,
        SESSION_COOKIE,
        session_id,
        max_age=int(context.state.policy.session_idle.total_seconds()),
    )
    return response


@router.get("/")
async def home(context: Viewer) -> Response:
    return redirect(context, "/settings/developer" if context.user else "/login")


@router.get("/signup")
async def signup_page(context: Viewer, next: str | None = None) -> Response:
    return context.render("accounts/signup.html", {"values": {}, "errors": {}, "next": next or ""})


@router.post("/signup")
async def signup(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    values = {name: text(form, name, 2000) for name in ("email", "name")}
    password = text(form, "password", 4096)
    next_path = safe_next(text(form, "next", 4000))
    state = context.state
    origin = origin_of(request)
    try:
        await state.rate_limits.check_signup(origin.ip)
        account = await accounts.new_account(
            accounts.SignUp(email=values["email"], password=password, name=values["name"]),
            state.policy.password_hashing,
        )
        async with state.database.unit_of_work() as store:
            now = state.clock()
            user = await accounts.sign_up(store, account, now, origin=origin)
            await email_verification.send_link(store, user, now, state.policy, origin=origin)
            if context.session_id:
                await sessions.end(store, context.session_id)
            session_id = await sessions.start(
                store,
                user.id,
                now,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
    except RateLimited as error:
        metrics.rate_limited("/signup")
        return context.render(
            "accounts/signup.html",
            {"values": values, "errors": {}, "error": error.description, "next": next_path},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except Invalid as error:
        return context.render(
            "accounts/signup.html",
            {"values": values, "errors": error.fields, "next": next_path},
            status_code=400,
        )
    except Conflict as error:
        # A taken email counts like an account made: both tell something to a prober.
        await state.rate_limits.signed_up(origin.ip)
        return context.render(
            "accounts/signup.html",
            {"values": values, "errors": {"email": error.description}, "next": next_path},
            status_code=400,
        )
    await state.rate_limits.signed_up(origin.ip)
    state.mail.wake()
    response = start_session(context, session_id, next_path)
    device_cookie.remember(request, response, state, user.id)
    return response


@router.get("/login")
async def login_page(context: Viewer, next: str | None = None) -> Response:
    return context.render("accounts/login.html", {"email": "", "error": None, "next": next or ""})


@router.post("/login")
async def login(request: Request, context: Viewer) -> Response:
    form = await checked_form(request, context)
    email = text(form, "email", 2000)
    password = text(form, "password", 4096)
    next_path = safe_next(text(form, "next", 4000))
    state = context.state
    origin = origin_of(request)
    async with state.database.reading() as store:
        credentials = await accounts.find_credentials(store, email)
        second = credentials is not None and await two_factor.is_enabled(store, credentials.user.id)
    # docs/reference.md §6: a browser that signed in to the account before counts its failures apart
    # from everyone else's (paced.web.device).
    device = device_cookie.trusted(request, state, credentials.user.id) if credentials else None
    unlocked_at = credentials.unlocked_at if credentials else None
    limit_key = device_key(device) if device else account_key(email, unlocked_at)
    try:
        # Counted before the password is checked, so that concurrent guesses cannot
        # all pass the limit; while it is reached the password is not even checked.
        await state.rate_limits.sign_in_attempt(origin.ip, limit_key)
    except RateLimited as error:
        metrics.rate_limited("/login")
        return context.render(
            "accounts/login.html",
            {"email": email, "error": error.description, "next": next_path},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    check = await accounts.check_password(
        credentials, email, password, state.policy.password_hashing
    )
    async with state.database.unit_of_work() as store:
        now = state.clock()
        user = await accounts.log_in(store, check, now, origin=origin, second_step=second)
        if user is not None and not second:
            if context.session_id:  # a new id at every login
                await sessions.end(store, context.session_id)
            session_id = await sessions.start(
                store,
                user.id,
                now,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
    if user is None:
        metrics.auth_failed("login", "bad_credentials")
        return context.render(
            "accounts/login.html",
            {"email": email, "error": accounts.LOGIN_FAILED, "next": next_path},
            status_code=400,
        )
    await state.rate_limits.sign_in_succeeded(origin.ip, limit_key)
    if second:
        # Not signed in yet: the browser holds a half-signed-in state for the second step.
        response = redirect(context, "/login/two-factor")
        second_step.keep(response, state, user.id, next_path, limit_key)
        return response
    response = start_session(context, session_id, next_path)
    device_cookie.remember(request, response, state, user.id)
    return response


@router.post("/logout")
async def logout(request: Request, context: Viewer) -> Response:
    await checked_form(request, context)
    if context.session_id:
        async with context.state.database.unit_of_work() as store:
            await sessions.end(store, context.session_id)
    response = redirect(context, "/login", flash="You are signed out.")
    context.state.cookies.delete(response, SESSION_COOKIE)
    return response
