"""Developer settings (docs/reference.md §7): personal access tokens, and the OAuth
applications section.

A new token is shown once, through `paced.web.reveal`: never in a URL, a log line or the
database, and never again on reload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from paced.core import personal_tokens, scopes
from paced.core.errors import Invalid
from paced.core.records import User
from paced.storage.store import Store
from paced.web import metrics, reveal
from paced.web.deps import SignedIn, ViewerContext, checked_form, redirect, text
from paced.web.origin import origin_of
from paced.web.routers.pages import applications

router = APIRouter(include_in_schema=False)

CREATED_PATH = "/settings/developer/tokens/created"

# What each section of the Developer settings page shows, loaded in one read transaction.
# The OAuth applications section adds its loader here; its template is
# `developer/_applications.html`, included by `developer/index.html`.
SectionLoader = Callable[[Store, User, datetime], Awaitable[dict[str, Any]]]


async def tokens_section(store: Store, user: User, now: datetime) -> dict[str, Any]:
    return {"tokens": await personal_tokens.list_owned(store, user.id, now)}


SECTIONS: tuple[SectionLoader, ...] = (tokens_section, applications.section)


def _user(context: ViewerContext) -> User:
    assert context.user is not None  # SignedIn guarantees it
    return context.user


@router.get("/settings/developer")
async def developer_settings(context: SignedIn, tokens: str = Query("all")) -> Response:
    """`?tokens=active` hides revoked and expired tokens (a link, so no JavaScript)."""
    user, now = _user(context), context.state.clock()
    values: dict[str, Any] = {"now": now, "hide_inactive": tokens == "active"}
    async with context.state.database.reading() as store:
        for load in SECTIONS:
            values.update(await load(store, user, now))
    listed: list[personal_tokens.Listed] = values["tokens"]
    values["active_count"] = sum(1 for row in listed if row.state == "active")
    values["inactive_count"] = len(listed) - values["active_count"]
    return context.render("developer/index.html", values)


def _form_page(
    context: ViewerContext,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    defaults = {
        "name": "",
        "scopes": list(scopes.ALL),
        "expiration": str(personal_tokens.DEFAULT_DAYS),
        "expiration_date": "",
    }
    return context.render(
        "developer/tokens_new.html",
        {
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "expiry_days": personal_tokens.EXPIRY_DAYS,
            # What each choice means today: the exact date it expires on.
            "expiry_dates": {
                days: context.state.clock() + timedelta(days=days)
                for days in personal_tokens.EXPIRY_DAYS
            },
            "max_name": personal_tokens.MAX_NAME,
            "time_zone": _user(context).time_zone,
        },
        status_code=status_code,
    )


@router.get("/settings/developer/tokens/new")
async def new_token_page(context: SignedIn) -> Response:
    return _form_page(context)


@router.post("/settings/developer/tokens/new")
async def create_token(request: Request, context: SignedIn) -> Response:
    form = await checked_form(request, context)
    user, now = _user(context), context.state.clock()
    values: dict[str, Any] = {
        "name": text(form, "name", 1000),
        "scopes": [s for s in form.getlist("scopes") if isinstance(s, str)][:10],
        "expiration": text(form, "expiration", 20),
        "expiration_date": text(form, "expiration_date", 40),
    }
    try:
        async with context.state.database.unit_of_work() as store:
            issued = await personal_tokens.create(
                store,
                user.id,
                personal_tokens.NewToken(
                    name=values["name"],
                    scopes=values["scopes"],
                    expiration=values["expiration"],
                    expiration_date=values["expiration_date"],
                    time_zone=user.time_zone,
                ),
                now,
                origin=origin_of(request),
            )
    except Invalid as error:
        return _form_page(context, values=values, errors=error.fields, status_code=400)
    metrics.issued("personal_access_token")
    context.state.mail.wake()
    response = redirect(context, CREATED_PATH)
    return await reveal.keep(
        response, context, issued.secret, page=CREATED_PATH, about=issued.token.id
    )


@router.get(CREATED_PATH)
async def token_created(context: SignedIn) -> Response:
    revealed = await reveal.take(context)
    token = None
    if revealed is not None:
        async with context.state.database.reading() as store:
            token = await personal_tokens.owned(store, revealed.about, _user(context).id)
    response = context.render(
        "developer/token_created.html",
        {
            "token": token,
            "secret": revealed.secret if revealed else None,
            "api_url": context.state.issuer + "/api/v1/me",
        },
        headers=reveal.NO_STORE,
    )
    return reveal.forget(response, context)


@router.get("/settings/developer/tokens/{token_id}/revoke")
async def revoke_page(token_id: str, context: SignedIn) -> Response:
    user, now = _user(context), context.state.clock()
    async with context.state.database.reading() as store:
        token = await personal_tokens.owned(store, token_id, user.id)
    return context.render(
        "developer/token_revoke.html",
        {"token": token, "state": personal_tokens.state(token, now)},
    )


@router.post("/settings/developer/tokens/{token_id}/revoke")
async def revoke_token(token_id: str, request: Request, context: SignedIn) -> Response:
    await checked_form(request, context)
    async with context.state.database.unit_of_work() as store:
        token = await personal_tokens.revoke(
            store,
            token_id,
            context.state.clock(),
            owner_id=_user(context).id,
            origin=origin_of(request),
        )
    metrics.revoked("personal_access_token")
    return redirect(
        context,
        "/settings/developer",
        flash=f"The token \u201c{token.name}\u201d is revoked: it no longer works.",
    )
