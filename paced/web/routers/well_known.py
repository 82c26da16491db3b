"""`/.well-known/oauth-authorization-server` (RFC 8414 §3)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from paced.core import metadata
from paced.web.deps import State

router = APIRouter(tags=["OAuth 2"])


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2 authorization server metadata (RFC 8414)",
)
async def authorization_server_metadata(state: State) -> JSONResponse:
    # A public document: browser-based clients may read it from any origin.
    return JSONResponse(
        metadata.server_metadata(state.issuer), headers={"Access-Control-Allow-Origin": "*"}
    )
