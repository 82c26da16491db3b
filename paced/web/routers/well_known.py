"""`/.well-known/oauth-authorization-server` (RFC 8414 §3) and
`/.well-known/oauth-protected-resource` (RFC 9728 §3), the first documents a client
reads."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from paced.core import metadata, resource
from paced.web.deps import app_state
from paced.web.endpoints import Endpoints
from paced.web.json_response import JSONResponse

well_known = Endpoints("oauth", tags=["OAuth 2"])
# Public documents: browser-based clients may read them from any origin.
PUBLIC = {"Access-Control-Allow-Origin": "*"}


@well_known.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2 authorization server metadata (RFC 8414)",
    responses={
        200: {
            "description": "The server's endpoints and what they support.",
            "content": {
                "application/json": {"example": metadata.server_metadata("https://paced.example")}
            },
        }
    },
)
async def authorization_server_metadata(request: Request) -> Response:
    state = app_state(request)
    return JSONResponse(
        metadata.server_metadata(state.issuer, state.policy),
        headers=PUBLIC,
    )


async def _protected_resource(request: Request) -> Response:
    return JSONResponse(
        resource.protected_resource_metadata(app_state(request).issuer), headers=PUBLIC
    )


# RFC 9728 §3.1: the well-known path, with the resource's path appended after it; the
# bare path too, where clients look when they know only the origin.
for _path in (resource.METADATA_PATH, resource.METADATA_PATH + resource.API_PATH):
    well_known.get(
        _path,
        summary="OAuth 2 protected resource metadata of the API (RFC 9728)",
    )(_protected_resource)
