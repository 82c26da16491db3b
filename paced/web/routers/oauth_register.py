"""`/oauth/register`: dynamic client registration (RFC 7591 §3), on while
PACED_DYNAMIC_REGISTRATION is `open`.

Errors leave as exceptions; `paced.web.errors` writes them as RFC 7591 §3.2.2 JSON
(`{"error": "invalid_client_metadata", "error_description": …}`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from paced.core import registration
from paced.core.errors import NotFound
from paced.web import openapi
from paced.web.deps import app_state
from paced.web.endpoints import Endpoints
from paced.web.errors import NO_STORE
from paced.web.json_response import JSONResponse
from paced.web.origin import origin_of

register_endpoint = Endpoints("oauth", tags=["OAuth 2"])

_METADATA = {
    "type": "object",
    "required": ["redirect_uris"],
    "properties": {
        "redirect_uris": {"type": "array", "items": {"type": "string"}},
        "client_name": {"type": "string"},
        "client_uri": {"type": "string"},
        "logo_uri": {"type": "string"},
        "scope": {"type": "string"},
        "grant_types": {"type": "array", "items": {"type": "string"}},
        "response_types": {"type": "array", "items": {"type": "string"}},
        "token_endpoint_auth_method": {
            "type": "string",
            "enum": list(registration.AUTH_METHODS),
        },
    },
}


@register_endpoint.post(
    "/oauth/register",
    summary="Register a client (RFC 7591)",
    description=(
        "Open while the operator leaves dynamic registration on; rate-limited per address. "
        "The client has no owner, and the consent screen says that nobody reviewed it."
    ),
    status_code=201,
    response_class=JSONResponse,
    responses={
        400: {"description": "`invalid_redirect_uri` or `invalid_client_metadata`."},
        404: {"description": "Dynamic registration is off."},
        429: {"description": "Too many registrations from this address (`rate_limited`)."},
        **openapi.COMMON,
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _METADATA}}}
    },
)
async def register(request: Request) -> Response:
    state = app_state(request)
    if not state.policy.dynamic_registration:
        raise NotFound("Dynamic client registration is turned off on this server.")
    origin = origin_of(request)
    await state.rate_limits.registration(origin.ip)
    metadata = registration.parse(request.headers.get("content-type"), await request.body())
    async with state.database.unit_of_work() as store:
        registered = await registration.register(store, metadata, state.clock(), origin=origin)
    return JSONResponse(registered.body(), status_code=201, headers=NO_STORE)
