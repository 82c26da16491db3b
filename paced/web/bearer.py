"""The one dependency every `/api/v1` route uses: `require_scope("read")`, or `ApiPrincipal`.

Only the `Authorization` header counts: a token in the query string or a cookie
authenticates nothing (SPEC §5). `HTTPBearer` is declared for the OpenAPI document, so
that `/docs` offers a box to paste a token into; the header is parsed by the core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paced.core import bearer
from paced.core.records import Principal
from paced.storage.bearer import bearer_tokens
from paced.web.state import AppState

bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="pt_secret_… or pt_oauth_…",
    description=(
        "A personal access token (`pt_secret_…`, from Developer settings) or an OAuth "
        "access token (`pt_oauth_…`), sent as `Authorization: Bearer <token>`."
    ),
    auto_error=False,
)

# For OpenAPI only: the core reads the raw header values itself.
_Declared = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


@cache
def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the request's Principal, when its token is valid and holds `scope`.

    It sets `X-OAuth-Scopes` (what the token holds) and `X-Accepted-OAuth-Scopes` (what
    the route needs) on the route's response.
    """

    async def principal(request: Request, response: Response, _: _Declared) -> Principal:
        state: AppState = request.app.state.paced
        found = await bearer.authenticate(
            bearer_tokens(state.engine),
            request.headers.getlist("authorization"),
            state.clock(),
            state.policy,
        )
        response.headers["X-OAuth-Scopes"] = ", ".join(found.scopes)
        response.headers["X-Accepted-OAuth-Scopes"] = scope
        bearer.require_scope(found, scope)
        return found

    principal.__name__ = f"require_{scope}_scope"
    return principal


ApiPrincipal = Annotated[Principal, Security(require_scope("read"))]
"""Who a read-only API request acts for."""
