"""/settings/authorized-applications: the apps this account granted, and revoking them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import grants
from paced.web import metrics
from paced.web.deps import SignedIn, checked_form, redirect
from paced.web.origin import origin_of

router = APIRouter(include_in_schema=False)

PAGE = "/settings/authorized-applications"


@router.get(PAGE)
async def authorized_apps_page(context: SignedIn) -> Response:
    assert context.user is not None
    async with context.state.database.reading() as store:
        authorized = await grants.authorized_apps(store, context.user.id)
    return context.render("settings/authorized_apps.html", {"authorized": authorized})


@router.get(PAGE + "/{app_id}/revoke")
async def confirm_revoke(app_id: str, context: SignedIn) -> Response:
    """The confirmation, without JavaScript: a page whose form posts the revocation."""
    assert context.user is not None
    async with context.state.database.reading() as store:
        authorized = await grants.authorized_app(store, context.user.id, app_id)
    return context.render("settings/revoke_authorized_app.html", {"authorized": authorized})


@router.post(PAGE + "/{app_id}/revoke")
async def revoke(app_id: str, request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    assert context.user is not None
    async with context.state.database.unit_of_work() as store:
        revoked = await grants.revoke_app(
            store, context.user.id, app_id, context.state.clock(), origin=origin_of(request)
        )
    metrics.revoked("oauth_grant")
    return redirect(
        context, PAGE, flash=f"{revoked.app.name} no longer has access to your account."
    )
