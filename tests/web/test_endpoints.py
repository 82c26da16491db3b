"""A JSON endpoint declared once (paced.web.endpoints): served by Edge, answered in its
shape whatever it raises, named in the access log, and documented in /openapi.json.
The endpoints here are declared by the test, as a newcomer would add one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from paced.core.errors import InvalidGrant
from paced.core.records import Principal
from paced.web import bearer, errors
from paced.web.edge import Edge
from paced.web.endpoints import Endpoints
from tests.conftest import Clock
from tests.token_rows import add_personal_token, add_user

api = Endpoints("api", tags=["API"])
oauth = Endpoints("oauth", tags=["OAuth 2"])


@api.get("/api/v1/scopes", scope="read", summary="The scopes of the token")
async def scopes(request: Request, principal: Principal) -> Response:
    return bearer.api_json(principal, "read", {"scopes": list(principal.scopes)})


@api.get("/api/v1/items/{item_id}", summary="One item")
async def item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["item_id"]})


@api.get("/api/v1/broken", summary="Fails")
async def broken(request: Request) -> Response:
    raise RuntimeError("a bug")


@oauth.post("/oauth/example", summary="An OAuth-shaped failure")
async def example(request: Request) -> Response:
    raise InvalidGrant("The code is not valid.")


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """paced's app, with the test's endpoints served by an Edge of their own in front."""
    routes = [*api.routes(), *oauth.routes()]
    edge = Edge(app, endpoints=routes, max_body_bytes=1024, refuse=errors.body_too_large)

    async def served(scope: dict[str, object], receive: object, send: object) -> None:
        scope["app"] = app  # as Starlette sets it before its middleware
        await edge(scope, receive, send)  # type: ignore[arg-type]

    transport = httpx.ASGITransport(app=served)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_scoped_endpoint_gets_the_principal_of_a_valid_token(
    app: FastAPI, http: httpx.AsyncClient, clock: Clock
) -> None:
    user = await add_user(app.paced.database, clock())
    token = (await add_personal_token(app.paced.database, user, clock(), scopes=("read",))).secret
    response = await http.get("/api/v1/scopes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json() == {"scopes": ["read"]}
    assert response.headers["x-accepted-oauth-scopes"] == "read"


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/api/v1/scopes", 401, "unauthorized"),
        ("POST", "/api/v1/scopes", 405, "method_not_allowed"),
        ("GET", "/api/v1/broken", 500, "server_error"),
        ("POST", "/oauth/example", 400, "invalid_grant"),
    ],
    ids=[
        "no token is a Bearer challenge",
        "another method is 405 in JSON",
        "a bug is a 500 in JSON",
        "an OAuth error is RFC 6749 JSON",
    ],
)
async def test_whatever_an_endpoint_raises_is_answered_in_its_shape(
    http: httpx.AsyncClient, method: str, path: str, status: int, error: str
) -> None:
    response = await http.request(method, path)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["x-frame-options"] == "DENY"  # Edge's headers, on every answer


async def test_path_parameters_reach_the_handler(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/v1/items/42")).json() == {"id": "42"}


async def test_the_declaration_is_the_documentation(app: FastAPI) -> None:
    bearer.declare_scheme(app, [*api.documented(), *oauth.documented()])
    paths = app.openapi()["paths"]
    assert paths["/api/v1/scopes"]["get"]["summary"] == "The scopes of the token"
    assert paths["/api/v1/scopes"]["get"]["security"] == [{"bearer": []}]
    assert paths["/oauth/example"]["post"]["tags"] == ["OAuth 2"]
