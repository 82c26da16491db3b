"""`/device`, the verification URI of the device authorization grant (RFC 8628 §3.3).

A signed-in person types the code their device shows (or finds it filled in from
`verification_uri_complete`), sees the consent screen of `/oauth/authorize`, and
approves or denies. Every code typed counts towards the account's limit on wrong codes
before it is looked up (`RateLimits.user_code_attempt`); a right one is taken back out.
A signed-out person is sent to log in and comes back to the form, the code kept.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from paced.core import device_approval
from paced.core.device_approval import PendingDevice, WrongUserCode
from paced.core.device_authorization import MAX_TYPED, VERIFICATION_PATH
from paced.core.records import User
from paced.web.deps import (
    MAX_FORM_FIELDS,
    LoginRequired,
    SignedIn,
    Viewer,
    ViewerContext,
    checked_form,
    redirect,
    text,
)
from paced.web.origin import origin_of
from paced.web.routers.oauth_authorize import APPROVE, NO_STORE

router = APIRouter(include_in_schema=False)

DECISION = f"{VERIFICATION_PATH}/decision"
DONE = f"{VERIFICATION_PATH}/done"


def _entry_page(
    context: ViewerContext, typed: str, error: str | None = None, status_code: int = 200
) -> Response:
    return context.render(
        "device/enter.html",
        {"user_code": typed, "errors": {"user_code": error} if error else {}},
        status_code=status_code,
        headers=NO_STORE,
    )


async def _signed_in_form(request: Request, context: ViewerContext) -> tuple[User, FormData]:
    """The posted form of a signed-in person; a signed-out one logs in and comes back to
    the form with the code filled in."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    if context.user is None:
        typed = text(form, "user_code", MAX_TYPED)
        raise LoginRequired(f"{VERIFICATION_PATH}?{urlencode({'user_code': typed})}")
    await checked_form(request, context)
    return context.user, form


@router.get(VERIFICATION_PATH)
async def entry(context: SignedIn, user_code: str = "") -> Response:
    return _entry_page(context, user_code[:MAX_TYPED])


@router.post(VERIFICATION_PATH)
async def lookup(request: Request, context: Viewer) -> Response:
    user, form = await _signed_in_form(request, context)
    typed = text(form, "user_code", MAX_TYPED)
    state = context.state
    await state.rate_limits.user_code_attempt(user.id)
    try:
        async with state.database.reading() as store:
            pending = await device_approval.find(store, typed, state.clock())
    except WrongUserCode as wrong:
        return _entry_page(context, typed, wrong.fields["user_code"], status_code=400)
    await state.rate_limits.user_code_found(user.id)
    return _consent_page(context, pending)


def _consent_page(context: ViewerContext, pending: PendingDevice) -> Response:
    return context.render(
        "oauth/consent.html",
        {
            "app": pending.code.app,
            "owner": pending.owner,
            "scopes": pending.code.scopes,
            "action": DECISION,
            "device_user_code": pending.user_code,
            "parameters": [("user_code", pending.user_code)],
        },
        headers=NO_STORE,
    )


@router.post(DECISION)
async def decide(request: Request, context: Viewer) -> Response:
    user, form = await _signed_in_form(request, context)
    typed = text(form, "user_code", MAX_TYPED)
    state = context.state
    await state.rate_limits.user_code_attempt(user.id)
    try:
        async with state.database.unit_of_work() as store:
            if text(form, "decision") == APPROVE:
                await device_approval.approve(
                    store, typed, user, state.clock(), origin=origin_of(request)
                )
                approved = True
            else:
                await device_approval.deny(store, typed, state.clock())
                approved = False
    except WrongUserCode as wrong:
        return _entry_page(context, typed, wrong.fields["user_code"], status_code=400)
    await state.rate_limits.user_code_found(user.id)
    return redirect(
        context, f"{DONE}?{urlencode({'result': 'approved' if approved else 'denied'})}"
    )


@router.get(DONE)
async def done(context: SignedIn, result: str = "") -> Response:
    return context.render("device/done.html", {"approved": result == "approved"}, headers=NO_STORE)
