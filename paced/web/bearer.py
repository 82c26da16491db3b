"""The Bearer check of every `/api/v1` endpoint: `require_scope("read")`, which an endpoint
declared with `scope="read"` (paced.web.endpoints) runs before its handler.

Only the `Authorization` header counts: a token in the query string or a cookie
authenticates nothing (docs/reference.md §5); the core parses the header. The route answers with
`api_json`, which adds `X-OAuth-Scopes` (what the token holds) and
`X-Accepted-OAuth-Scopes` (what the route needs).

This runs on every API call, so the dependency takes the request alone: FastAPI's own
`HTTPBearer` dependency would parse the header a second time on every request just to
be named in the OpenAPI document. `declare_scheme` names the scheme there instead, so
that `/docs` still offers a box to paste a token into.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute
from starlette.types import Scope

from paced.core import bearer
from paced.core.errors import InvalidToken
from paced.core.records import Principal
from paced.web.deps import app_state
from paced.web.json_response import JSONResponse
from paced.web.origin import client_ip

SCHEME = "bearer"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "pt_secret_… or pt_oauth_…",
    "description": (
        "A personal access token (`pt_secret_…`, from Developer settings) or an OAuth "
        "access token (`pt_oauth_…`), sent as `Authorization: Bearer <token>`."
    ),
}
# Marks a route as Bearer-protected in the OpenAPI document.
SECURED: dict[str, Any] = {"security": [{SCHEME: []}]}


@cache
def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the request's Principal, when its token is valid and holds `scope`."""

    async def principal(request: Request) -> Principal:
        state = app_state(request)
        gate = state.rate_limits.bearer
        # docs/reference.md §6: an address that sent too many invalid tokens is refused before any
        # lookup. Only failures count, so a valid token costs one check of an empty dict.
        if gate.blocking:
            gate.check(client_ip(request))
        try:
            found = await bearer.authenticate(
                state.database, _authorization(request.scope), state.clock(), state.policy
            )
        except InvalidToken:
            if gate.counting:
                await gate.failed(client_ip(request))
            raise
        bearer.require_scope(found, scope)
        return found

    principal.__name__ = f"require_{scope}_scope"
    return principal


def _authorization(scope: Scope) -> list[str]:
    """The request's Authorization values, as `request.headers.getlist` reads them (ASGI
    header names come lowercased), without building a Headers object on every call."""
    return [value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"]


def api_json(principal: Principal, accepted_scope: str, body: Any) -> JSONResponse:
    return JSONResponse(
        body,
        headers={
            "X-OAuth-Scopes": ", ".join(principal.scopes),
            "X-Accepted-OAuth-Scopes": accepted_scope,
        },
    )


def declare_scheme(app: FastAPI, documented: Sequence[BaseRoute] = ()) -> None:
    """The app's OpenAPI document: its routes', the declared endpoints' (`documented`,
    paced.web.endpoints), and the Bearer scheme that routes marked SECURED use."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                routes=[*documented, *app.routes],
                description=app.description,
            )
            schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME] = (
                SECURITY_SCHEME
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
