"""Endpoints: each JSON endpoint of paced (the API under `/api/v1`, the OAuth endpoints)
declared once, with the error shape it answers in.

    api = Endpoints("api", tags=["API"])

    @api.get("/api/v1/me", scope="read", summary="…", response_model=Me)
    async def me(request: Request, principal: Principal) -> Response:
        return api_json(principal, "read", user_json(principal.user))

The declaration serves the endpoint from `paced.web.edge.Edge`, by its path, before any
page route and with no FastAPI router or dependency solving on the way, and the same
declaration is its entry in `/openapi.json`. A declared `scope` makes it a Bearer
endpoint: the request is authenticated, the scope checked, and the handler given the
principal. Whatever the handler raises is answered by `paced.web.errors.answer` in the
endpoint's shape: `api` (RFC 6750 challenges, `{"error", "error_description"}`) or
`oauth` (RFC 6749 §5.2). A group that claims a path prefix (`claims="/api/"`) answers
in its shape for every path under it, an unknown one included. Pages are FastAPI routes
(`paced.web.routers.pages`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from paced.core.records import Principal
from paced.web import errors
from paced.web.bearer import SECURED, require_scope

Shape = Literal["api", "oauth"]
Handler = Callable[[Request], Awaitable[Response]]
ScopedHandler = Callable[[Request, Principal], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    call: Handler
    shape: Shape
    # What FastAPI's APIRoute takes to describe it (summary, response_model, responses …).
    doc: dict[str, Any] = field(default_factory=dict)


class EndpointRoute(Route):
    """Serves one endpoint: answers its errors in its shape, and names itself in the
    scope, as FastAPI's routes do, for the access log and metrics (`edge.route_of`)."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(
            endpoint.path, endpoint.call, methods=[endpoint.method], include_in_schema=False
        )
        self.call = endpoint.call
        self.shape: Shape = endpoint.shape

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.methods and scope["method"] not in self.methods:
            response = errors.method_not_allowed(self.methods)
        else:
            try:
                response = await self.call(request)
            except Exception as error:  # each is answered in the endpoint's shape
                response = await errors.answer(request, error, self.shape)
        await response(scope, receive, send)


class Endpoints:
    """The endpoints of one shape, as a router holds them."""

    def __init__(
        self,
        shape: Shape,
        *,
        tags: list[str],
        responses: dict[int | str, Any] | None = None,
        in_schema: bool = True,
        claims: str | None = None,
    ) -> None:
        self.shape: Shape = shape
        # A path prefix whose every request, declared here or not, answers errors in this
        # shape: `/api/` claims the 404 of an API path nobody declared.
        self.claims = claims
        self.in_schema = in_schema
        self.tags = tags
        self.responses = responses or {}
        self.declared: list[Endpoint] = []

    def get(self, path: str, **doc: Any) -> Callable[[Any], Any]:
        declare: Callable[[Any], Any] = self.route("GET", path, **doc)
        return declare

    def post(self, path: str, **doc: Any) -> Callable[[Any], Any]:
        declare: Callable[[Any], Any] = self.route("POST", path, **doc)
        return declare

    def route(self, method: str, path: str, *, scope: str | None = None, **doc: Any) -> Any:
        """Declare the decorated function as `method path`; with `scope`, it is called as
        `handler(request, principal)` once the Bearer token holds that scope."""

        def declare(handler: Any) -> Any:
            call: Handler = handler if scope is None else _authenticated(handler, scope)
            described = {"summary": handler.__doc__, **doc}
            if scope is not None:
                described["openapi_extra"] = {**SECURED, **doc.get("openapi_extra", {})}
            self.declared.append(Endpoint(method, path, call, self.shape, described))
            return handler

        return declare

    def routes(self) -> list[EndpointRoute]:
        return [EndpointRoute(endpoint) for endpoint in self.declared]

    def documented(self) -> list[APIRoute]:
        """The endpoints as FastAPI describes routes in an OpenAPI document: never served,
        only read by `paced.web.bearer.declare_scheme`."""

        async def described_only() -> None:  # pragma: no cover (never called)
            raise RuntimeError("documentation only")

        routes: list[APIRoute] = []
        for endpoint in self.declared if self.in_schema else ():
            doc = dict(endpoint.doc)
            responses = {**self.responses, **doc.pop("responses", {})}
            routes.append(
                APIRoute(
                    endpoint.path,
                    described_only,
                    methods=[endpoint.method],
                    tags=list(self.tags),
                    responses=responses,
                    **doc,
                )
            )
        return routes


def _authenticated(handler: ScopedHandler, scope: str) -> Handler:
    principal_of = require_scope(scope)

    async def call(request: Request) -> Response:
        return await handler(request, await principal_of(request))

    return call
