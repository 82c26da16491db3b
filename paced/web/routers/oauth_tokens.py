"""`/oauth/token`, `/oauth/revoke`, `/oauth/introspect` and `/oauth/device_authorization`:
read the request, call the core.

Errors leave as exceptions; `paced.web.errors` writes them as RFC 6749 §5.2 JSON.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from paced.core import device_authorization, introspection, revocation, token_endpoint
from paced.core.token_endpoint import FormRequest
from paced.web import metrics, openapi
from paced.web.deps import app_state
from paced.web.endpoints import Endpoints
from paced.web.errors import NO_STORE
from paced.web.json_response import JSONResponse
from paced.web.origin import origin_of
from paced.web.state import AppState

oauth = Endpoints("oauth", tags=["OAuth 2"])


def _form_body(*fields: tuple[str, str, bool]) -> dict[str, object]:
    """The OpenAPI description of a form-encoded body (the routes read it themselves)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                token_endpoint.FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            name: openapi.form_field(name, text) for name, text, _ in fields
                        },
                        "required": [name for name, _, required in fields if required],
                    }
                }
            },
        }
    }


_CLIENT = (
    ("client_id", "The client's id, unless sent with HTTP Basic.", False),
    ("client_secret", "A confidential client's secret, unless sent with HTTP Basic.", False),
)


async def form_request(request: Request) -> FormRequest:
    """The raw request; the core parses the body, so that it sees repeated parameters."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > token_endpoint.MAX_BODY:  # enough to refuse it; read no further
            break
    return FormRequest(
        content_type=request.headers.get("content-type"),
        body=bytes(body),
        authorization=request.headers.get("authorization"),
        # The raw query string, as request.url.query decodes it, without building a URL.
        query=parse_qs(request.scope["query_string"].decode("latin-1"), keep_blank_values=True),
        origin=origin_of(request),
    )


def limited(
    state: AppState, form: FormRequest, *, token: bool = False
) -> AbstractAsyncContextManager[None]:
    """The rate limits around one client's request (docs/reference.md §6; `paced.web.ratelimit`)."""
    client_id = token_endpoint.claimed_client_id(form)
    return state.rate_limits.client_request(form.origin.ip, client_id, token_endpoint=token)


@oauth.post(
    "/oauth/token",
    summary="Exchange an authorization code, a refresh token or a device code for tokens",
    response_class=JSONResponse,
    responses=openapi.TOKEN_RESPONSES,
    openapi_extra=_form_body(
        (
            "grant_type",
            "authorization_code, refresh_token or urn:ietf:params:oauth:grant-type:device_code",
            True,
        ),
        ("code", "authorization_code: the code from the redirect", False),
        ("redirect_uri", "authorization_code: as in the authorization request", False),
        ("code_verifier", "authorization_code: the PKCE verifier", False),
        ("refresh_token", "refresh_token: the current refresh token", False),
        ("scope", "refresh_token: a narrower scope for the new access token", False),
        ("device_code", "device_code: the device code to redeem", False),
        ("resource", "The protected resource (RFC 8707); optional", False),
        *_CLIENT,
    ),
)
async def token(request: Request) -> Response:
    state = app_state(request)
    form = await form_request(request)
    async with limited(state, form, token=True), state.database.unit_of_work() as store:
        issued = await token_endpoint.token(store, form, state.clock(), state.policy)
    metrics.issued("oauth_access_token")
    metrics.issued("oauth_refresh_token")
    return JSONResponse(issued.body(), headers=NO_STORE)


@oauth.post(
    "/oauth/revoke",
    summary="Revoke an access or refresh token (RFC 7009)",
    response_class=Response,
    responses=openapi.REVOCATION_RESPONSES,
    openapi_extra=_form_body(
        ("token", "The access or refresh token to revoke", True),
        ("token_type_hint", "access_token or refresh_token (optional)", False),
        *_CLIENT,
    ),
)
async def revoke(request: Request) -> Response:
    state = app_state(request)
    form = await form_request(request)
    async with limited(state, form), state.database.unit_of_work() as store:
        revoked = await revocation.revoke(store, form, state.clock(), state.policy)
    if revoked is not None:
        metrics.revoked("oauth_grant" if revoked == "grant" else "oauth_access_token")
    return Response(status_code=200, headers=NO_STORE)


@oauth.post(
    "/oauth/introspect",
    summary="Describe one of the calling client's tokens (RFC 7662)",
    response_class=JSONResponse,
    responses=openapi.INTROSPECTION_RESPONSES,
    openapi_extra=_form_body(
        ("token", "The access or refresh token to describe", True),
        ("token_type_hint", "access_token or refresh_token (optional)", False),
        *_CLIENT,
    ),
)
async def introspect(request: Request) -> Response:
    state = app_state(request)
    form = await form_request(request)
    async with limited(state, form), state.database.unit_of_work() as store:
        result = await introspection.introspect(store, form, state.clock(), state.policy)
    return JSONResponse(result.body(), headers=NO_STORE)


@oauth.post(
    device_authorization.ENDPOINT,
    summary="Start a device authorization (RFC 8628)",
    response_class=JSONResponse,
    responses=openapi.DEVICE_AUTHORIZATION_RESPONSES,
    openapi_extra=_form_body(
        ("scope", "Space-separated scopes; read when absent", False),
        ("resource", "The protected resource (RFC 8707); optional", False),
        *_CLIENT,
    ),
)
async def authorize_device(request: Request) -> Response:
    state = app_state(request)
    form = await form_request(request)
    async with limited(state, form, token=True), state.database.unit_of_work() as store:
        started = await device_authorization.authorize_device(
            store, form, state.clock(), state.policy
        )
    metrics.issued("device_code")
    return JSONResponse(started.body(state.issuer), headers=NO_STORE)
