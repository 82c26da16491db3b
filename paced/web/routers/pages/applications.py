"""OAuth applications in Developer settings (docs/reference.md §7): register, show, edit, rotate
secrets, delete. Another user's application is a 404 on every page and action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from paced.core import apps
from paced.core.errors import Conflict, Invalid, NotFound
from paced.core.records import App, User
from paced.storage.store import Store
from paced.web import metrics, reveal
from paced.web.deps import SignedIn, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of

router = APIRouter(include_in_schema=False)

BASE = "/settings/developer/applications"


def page_of(app_id: str) -> str:
    return f"{BASE}/{app_id}"


def _owner(context: ViewerContext) -> User:
    assert context.user is not None  # SignedIn guarantees it
    return context.user


def _form(form: FormData) -> apps.AppForm:
    return apps.AppForm(
        name=text(form, "name", 1000),
        redirect_uris=text(form, "redirect_uris", 40_000),
        homepage_url=text(form, "homepage_url", 4000),
        description=text(form, "description", 4000),
        device_flow=text(form, "device_flow", 10) == "on",
    )


def _values_of(form: FormData) -> dict[str, str]:
    return {
        name: text(form, name, 40_000)
        for name in ("name", "redirect_uris", "homepage_url", "description", "device_flow")
    }


def _values(app: App) -> dict[str, str]:
    return {
        "name": app.name,
        "redirect_uris": "\n".join(app.redirect_uris),
        "homepage_url": app.homepage_url,
        "description": app.description,
        "device_flow": "on" if app.device_flow else "",
    }


async def _show(
    context: ViewerContext,
    app: App,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with context.state.database.reading() as store:
        secrets = await apps.secrets(store, app)
    page: dict[str, Any] = {
        "app": app,
        "secrets": secrets,
        "max_secrets": apps.MAX_SECRETS,
        "values": values or _values(app),
        "errors": errors or {},
        "issuer": context.state.issuer,
    }
    return await reveal.render(
        context,
        "developer/applications/show.html",
        page,
        name="client_secret",
        status_code=status_code,
    )


async def section(store: Store, user: User, now: datetime) -> dict[str, Any]:
    """The "OAuth applications" section of /settings/developer (developer.SECTIONS)."""
    return {"applications": await apps.list_owned(store, user.id)}


@router.get(BASE)
async def list_page(context: SignedIn) -> Response:
    return redirect(context, "/settings/developer#applications")


@router.get(f"{BASE}/new")
async def new_page(context: SignedIn) -> Response:
    values = {"client_type": "confidential"}
    return context.render("developer/applications/new.html", {"values": values, "errors": {}})


@router.post(f"{BASE}/new")
async def register(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    public = text(form, "client_type", 20) == "public"
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            registered = await apps.register(
                store,
                _owner(context).id,
                _form(form),
                state.clock(),
                public=public,
                origin=origin_of(request),
            )
    except Invalid as error:
        values = {**_values_of(form), "client_type": "public" if public else "confidential"}
        return context.render(
            "developer/applications/new.html",
            {"values": values, "errors": error.fields},
            status_code=400,
        )
    page = page_of(registered.app.id)
    response = redirect(context, page, flash=f"Registered {registered.app.name}.")
    if registered.client_secret is not None:
        metrics.issued("client_secret")
        await reveal.keep(response, context, registered.client_secret, page=page)
    return response


async def _owned(context: ViewerContext, app_id: str) -> App:
    async with context.state.database.reading() as store:
        return await apps.owned(store, _owner(context).id, app_id)


@router.get(f"{BASE}/{{app_id}}")
async def show_page(app_id: str, context: SignedIn) -> Response:
    return await _show(context, await _owned(context, app_id))


@router.post(f"{BASE}/{{app_id}}")
async def update(app_id: str, request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            app = await apps.update(
                store,
                _owner(context).id,
                app_id,
                _form(form),
                state.clock(),
                origin=origin_of(request),
            )
    except Invalid as error:
        app = await _owned(context, app_id)
        return await _show(
            context, app, values=_values_of(form), errors=error.fields, status_code=400
        )
    return redirect(context, page_of(app.id), flash="Changes saved.")


@router.post(f"{BASE}/{{app_id}}/secrets")
async def new_secret(app_id: str, request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    state = context.state
    try:
        async with state.database.unit_of_work() as store:
            created = await apps.new_secret(
                store, _owner(context).id, app_id, state.clock(), origin=origin_of(request)
            )
    except (Conflict, Invalid) as error:
        # Back to the page (a 303, so that a reload does not post again), saying why.
        await _owned(context, app_id)
        return redirect(context, page_of(app_id), flash=error.description)
    metrics.issued("client_secret")
    page = page_of(app_id)
    response = redirect(
        context,
        page,
        flash="New client secret generated. The previous one keeps working until you delete it.",
    )
    return await reveal.keep(response, context, created.value, page=page)


@router.get(f"{BASE}/{{app_id}}/secrets/{{secret_id}}/delete")
async def delete_secret_page(app_id: str, secret_id: str, context: SignedIn) -> Response:
    app = await _owned(context, app_id)
    async with context.state.database.reading() as store:
        secrets = await apps.secrets(store, app)
    secret = next((s for s in secrets if s.id == secret_id), None)
    if secret is None:
        raise NotFound("There is no such client secret.")
    return context.render(
        "developer/applications/delete_secret.html",
        {"app": app, "secret": secret, "remaining": len(secrets) - 1},
    )


@router.post(f"{BASE}/{{app_id}}/secrets/{{secret_id}}/delete")
async def delete_secret(
    app_id: str, secret_id: str, request: Request, context: SignedIn
) -> Response:
    await checked_form(request, context)
    async with context.state.database.unit_of_work() as store:
        await apps.delete_secret(
            store,
            _owner(context).id,
            app_id,
            secret_id,
            context.state.clock(),
            origin=origin_of(request),
        )
    metrics.revoked("client_secret")
    return redirect(context, page_of(app_id), flash="Client secret deleted. It no longer works.")


@router.get(f"{BASE}/{{app_id}}/delete")
async def delete_page(app_id: str, context: SignedIn) -> Response:
    app = await _owned(context, app_id)
    return context.render("developer/applications/delete.html", {"app": app})


@router.post(f"{BASE}/{{app_id}}/delete")
async def delete(app_id: str, request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    async with context.state.database.unit_of_work() as store:
        app = await apps.delete(
            store, _owner(context).id, app_id, context.state.clock(), origin=origin_of(request)
        )
    metrics.revoked("oauth_app")
    return redirect(
        context,
        "/settings/developer#applications",
        flash=f"Deleted {app.name}. Every token issued to it stopped working.",
    )
