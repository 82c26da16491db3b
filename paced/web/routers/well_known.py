"""`/.well-known/oauth-authorization-server` (RFC 8414 §3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from paced.core import metadata
from paced.web.deps import app_state
from paced.web.endpoints import Endpoints

well_known = Endpoints("oauth", tags=["OAuth 2"])


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
    # A public document: browser-based clients may read it from any origin.
    return JSONResponse(
        metadata.server_metadata(app_state(request).issuer),
        headers={"Access-Control-Allow-Origin": "*"},
    )
