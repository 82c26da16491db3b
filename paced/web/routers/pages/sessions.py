"""Signing out one session from the sessions list of /settings/security."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import sessions
from paced.core.errors import NotFound
from paced.web.deps import SESSION_COOKIE, SignedIn, checked_form, redirect
from paced.web.origin import origin_of
from paced.web.routers.pages.security import PAGE

router = APIRouter(include_in_schema=False)


@router.post(PAGE + "/sessions/{session_id}/sign-out")
async def sign_out_session(request: Request, context: SignedIn, session_id: str) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    state = context.state
    current = False
    try:
        async with state.database.unit_of_work() as store:
            now = state.clock()
            listed = await sessions.list_of(
                store, context.user.id, context.session_id, now, state.policy
            )
            current = any(item.id == session_id and item.current for item in listed)
            await sessions.sign_out(
                store,
                context.user.id,
                session_id[:100],
                now,
                state.policy,
                origin=origin_of(request),
            )
    except NotFound as error:
        return redirect(context, PAGE, flash=error.description)
    if current:
        response = redirect(context, "/login", flash="You are signed out.")
        state.cookies.delete(response, SESSION_COOKIE)
        return response
    return redirect(context, PAGE, flash="That session is signed out.")
