"""Adding and removing passkeys on /settings/security (docs/two-factor.md): a POST makes
the challenge, the page it leads to hands the options to static/passkeys.js, whose
answer comes back in a form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import passkeys
from paced.core.errors import Invalid, RateLimited
from paced.web.deps import SignedIn, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of
from paced.web.routers.pages.security import NO_STORE, PAGE, after_enabling, own_password

router = APIRouter(include_in_schema=False)

NEW_PASSKEY = PAGE + "/passkeys/new"


def _binding(context: ViewerContext) -> str:
    """What a passkey registration's challenge is bound to: this session."""
    assert context.session_id is not None
    return "session:" + context.session_id


@router.post(NEW_PASSKEY)
async def start_passkey(request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    state = context.state
    async with state.database.unit_of_work() as store:
        await passkeys.start(
            store,
            _binding(context),
            "register",
            state.clock(),
            state.policy,
            user_id=context.user.id,
        )
    return redirect(context, NEW_PASSKEY)


async def _passkey_page(
    context: ViewerContext,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    assert context.user is not None
    state = context.state
    async with state.database.reading() as store:
        options = await passkeys.registration_options(
            store, state.relying_party, context.user, _binding(context), state.clock(), state.policy
        )
    if options is None:
        return redirect(context, PAGE)
    values: dict[str, Any] = {
        "title": "Add a passkey",
        "mode": "create",
        "options": options,
        "action": PAGE + "/passkeys",
        "button": "Create the passkey",
        "back": PAGE,
        "next": "",
        "errors": errors or {},
    }
    return context.render(
        "two_factor/passkey.html",
        values,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


@router.get(NEW_PASSKEY)
async def new_passkey_page(context: SignedIn) -> Response:
    return await _passkey_page(context)


@router.post(PAGE + "/passkeys")
async def add_passkey(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    assert context.user is not None
    state = context.state
    try:
        # A passkey signs in without the password: adding one needs the password, so
        # that a stolen session cannot leave itself a way back in.
        check = await own_password(
            request, context, text(form, "password", 4096), PAGE + "/passkeys"
        )
        async with state.database.unit_of_work() as store:
            codes = await passkeys.register(
                store,
                state.relying_party,
                context.user,
                _binding(context),
                text(form, "credential", passkeys.MAX_CREDENTIAL + 1),
                text(form, "name", 1000),
                state.clock(),
                check=check,
                origin=origin_of(request),
                policy=state.policy,
            )
    except RateLimited as error:
        return await _passkey_page(
            context,
            errors={"password": error.description},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except passkeys.PasskeyFailed as error:
        return redirect(context, PAGE, flash=error.description)
    except Invalid as error:
        return await _passkey_page(context, errors=error.fields, status_code=400)
    return await after_enabling(context, codes, "Your passkey is added.")


@router.post(PAGE + "/passkeys/{passkey_id}/delete")
async def delete_passkey(request: Request, context: SignedIn, passkey_id: str) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            await passkeys.remove(
                store, context.user, passkey_id[:100], state.clock(), origin=origin_of(request)
            )
    except Invalid as error:
        return redirect(context, PAGE, flash=error.description)
    return redirect(context, PAGE, flash="The passkey is removed.")
