"""`/oauth/authorize` (RFC 6749 §4.1.1 to §4.1.2): the authorization request and the consent
screen.

GET validates the request, sends a signed-out user to log in and back, and shows the
consent screen (or skips it, see `core.consent`). The screen's form posts the request's
parameters back here, and POST validates everything again from those fields: nothing the
GET decided is trusted. Errors become a 400 page or a redirect to the client in
`paced.web.errors`.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from paced.core import authorization_request, client_metadata_document, consent
from paced.core.authorization_request import AuthorizationRequest
from paced.core.consent import Approval
from paced.core.records import App, User
from paced.web import metrics
from paced.web.deps import (
    MAX_FORM_FIELDS,
    LoginRequired,
    Viewer,
    ViewerContext,
    checked_form,
    redirect,
    text,
)
from paced.web.origin import origin_of
from paced.web.state import AppState

router = APIRouter(include_in_schema=False)

PATH = "/oauth/authorize"
# The request and the screen may carry a code or state: keep them out of every cache.
NO_STORE = {"Cache-Control": "no-store"}
APPROVE = "approve"


def redirect_host(uri: str) -> str:
    """What the consent screen names as the destination: the host (and port), or the
    scheme of a private-use redirect such as `com.example.app:/callback`."""
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"


def approved(context: ViewerContext, approval: Approval) -> Response:
    metrics.issued("authorization_code")
    location = authorization_request.response_uri(
        approval.request.redirect_uri, approval.response_parameters(context.state.issuer)
    )
    response = redirect(context, location)
    response.headers.update(NO_STORE)
    return response


def consent_page(
    context: ViewerContext, request: AuthorizationRequest, owner: User | None
) -> Response:
    return context.render(
        "oauth/consent.html",
        {
            "app": request.app,
            "owner": owner,
            "scopes": request.scopes,
            "redirect_host": redirect_host(request.redirect_uri),
            # Whose document describes a client known by its metadata document.
            "document_host": (
                redirect_host(request.app.client_id)
                if request.app.registration == "document"
                else None
            ),
            "parameters": request.parameters,
        },
        headers=NO_STORE,
    )


async def document_client(state: AppState, params: authorization_request.Params) -> App | None:
    """The client described by the metadata document the request's client_id names, when
    it names one and documents are on; fetched before any transaction opens."""
    url = authorization_request.document_client_id(params)
    if url is None or not state.policy.client_id_metadata_documents:
        return None
    return await client_metadata_document.resolve(state.documents, url, state.clock())


@router.get(PATH)
async def authorize(request: Request, context: Viewer) -> Response:
    state = context.state
    params = authorization_request.grouped(request.query_params.multi_items())
    document = await document_client(state, params)
    async with state.database.reading() as store:
        valid = await authorization_request.validate(
            store, params, issuer=state.issuer, document=document
        )
        user = context.user
        if user is None:
            raise LoginRequired(f"{PATH}?{request.url.query}")
        shown = await consent.screen(store, valid, user)
    if shown is None:
        async with state.database.unit_of_work() as store:
            approval = await consent.approve(
                store, valid, user, state.clock(), state.policy, origin=origin_of(request)
            )
        return approved(context, approval)
    return consent_page(context, valid, shown.owner)


@router.post(PATH)
async def decide(request: Request, context: Viewer) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    pairs = [
        (name, value)
        for name, value in form.multi_items()
        if name in authorization_request.PARAMETERS and isinstance(value, str)
    ]
    user = context.user
    if user is None:  # the session ended while the screen was open: ask again afterwards
        raise LoginRequired(f"{PATH}?{urlencode(pairs)}")
    await checked_form(request, context)
    state = context.state
    params = authorization_request.grouped(pairs)
    document = await document_client(state, params)
    async with state.database.unit_of_work() as store:
        valid = await authorization_request.validate(
            store, params, issuer=state.issuer, document=document
        )
        if text(form, "decision") != APPROVE:
            raise consent.deny(valid)
        approval = await consent.approve(
            store,
            valid,
            user,
            state.clock(),
            state.policy,
            origin=origin_of(request),
            consented=True,
        )
    state.mail.wake()
    return approved(context, approval)
