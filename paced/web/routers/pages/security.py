"""/settings/security: two-factor authentication (authenticator app, passkeys, recovery
codes) and the account's signed-in sessions, each with `Sign out`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import accounts, sessions, totp, two_factor
from paced.core.errors import Invalid, RateLimited
from paced.web import metrics, reveal
from paced.web.deps import SignedIn, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of
from paced.web.ratelimit import account_key

router = APIRouter(include_in_schema=False)

PAGE = "/settings/security"
AUTHENTICATOR = PAGE + "/authenticator"
CODES = PAGE + "/recovery-codes"
NO_STORE = {"Cache-Control": "no-store"}


async def _page(
    context: ViewerContext,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    assert context.user is not None
    state = context.state
    async with state.database.reading() as store:
        status = await two_factor.status_of(store, context.user.id)
        listed = await sessions.list_of(
            store, context.user.id, context.session_id, state.clock(), state.policy
        )
    return context.render(
        "settings/security.html",
        {"status": status, "sessions": listed, "errors": errors or {}},
        status_code=status_code,
        headers=headers,
    )


@router.get(PAGE)
async def security_page(context: SignedIn) -> Response:
    return await _page(context)


# --- The authenticator app ------------------------------------------------------------------


@router.post(AUTHENTICATOR)
async def start_authenticator(request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    async with context.state.database.unit_of_work() as store:
        await two_factor.start_authenticator(store, context.state.totp_box, context.user)
    return redirect(context, AUTHENTICATOR)


async def _set_up_page(
    context: ViewerContext, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    assert context.user is not None
    async with context.state.database.reading() as store:
        set_up = await two_factor.authenticator_set_up(store, context.state.totp_box, context.user)
    if set_up is None:
        return redirect(context, PAGE)
    # Imported here: it is a few MiB of every worker's memory, for one page.
    import segno

    qr = segno.make(set_up.uri, error="m")
    return context.render(
        "settings/authenticator.html",
        {
            "qr": qr.svg_data_uri(scale=5, border=2),
            "secret": totp.shown(set_up.secret),
            "uri": set_up.uri,
            "errors": errors or {},
        },
        status_code=status_code,
        # The page shows a secret (SPEC §7).
        headers=dict(NO_STORE),
    )


@router.get(AUTHENTICATOR)
async def authenticator_page(context: SignedIn) -> Response:
    return await _set_up_page(context)


async def after_enabling(context: ViewerContext, codes: list[str] | None, done: str) -> Response:
    """To the recovery codes when there are new ones to show once, else back."""
    if codes is None:
        return redirect(context, PAGE, flash=done)
    response = redirect(context, CODES)
    return await reveal.keep(response, context, "\n".join(codes), page=CODES)


@router.post(AUTHENTICATOR + "/confirm")
async def confirm_authenticator(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            codes = await two_factor.confirm_authenticator(
                store,
                state.totp_box,
                context.user,
                text(form, "code", 100),
                state.clock(),
                origin=origin_of(request),
                policy=state.policy,
            )
    except Invalid as error:
        return await _set_up_page(context, errors=error.fields, status_code=400)
    return await after_enabling(context, codes, "Your authenticator app is set up.")


# --- Recovery codes -------------------------------------------------------------------------


@router.post(CODES)
async def new_recovery_codes(request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            codes = await two_factor.new_recovery_codes(
                store, context.user, state.clock(), origin=origin_of(request), policy=state.policy
            )
    except Invalid as error:
        return redirect(context, PAGE, flash=error.description)
    response = redirect(context, CODES)
    return await reveal.keep(response, context, "\n".join(codes), page=CODES)


@router.get(CODES)
async def recovery_codes_page(context: SignedIn) -> Response:
    return await reveal.render(context, "settings/recovery_codes.html", {}, name="codes")


# --- Turning it off -------------------------------------------------------------------------


async def own_password(
    request: Request, context: ViewerContext, password: str, route: str
) -> accounts.PasswordCheck:
    """The signed-in user's password checked, for a change that needs it. It is a guess
    at the account's password like a sign-in (SPEC §6): counted before it is checked, so
    that a stolen session cannot brute-force it. Raises RateLimited."""
    assert context.user is not None
    state = context.state
    ip = origin_of(request).ip
    limit_key = account_key(context.user.email)
    try:
        await state.rate_limits.sign_in_attempt(ip, limit_key)
    except RateLimited:
        metrics.rate_limited(route)
        raise
    async with state.database.reading() as store:
        credentials = await accounts.find_credentials(store, context.user.email)
    check = await accounts.check_password(
        credentials, context.user.email, password, state.policy.password_hashing
    )
    if check.ok:
        await state.rate_limits.sign_in_succeeded(ip, limit_key)
    return check


@router.post(PAGE + "/two-factor/off")
async def turn_off(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None
    state = context.state
    try:
        check = await own_password(
            request, context, text(form, "password", 4096), PAGE + "/two-factor/off"
        )
        async with state.database.unit_of_work() as store:
            await two_factor.turn_off(
                store, context.user, check, state.clock(), origin=origin_of(request)
            )
    except RateLimited as error:
        return await _page(
            context,
            errors={"password": error.description},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except Invalid as error:
        return await _page(context, errors=error.fields, status_code=400)
    return redirect(context, PAGE, flash="Two-factor authentication is off.")
