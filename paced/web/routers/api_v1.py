"""`/api/v1`: the Bearer-protected API (SPEC §5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from paced.core.errors import BearerError
from paced.core.records import User
from paced.web import openapi
from paced.web.bearer import SECURED, ApiPrincipal, api_json, require_scope
from paced.web.errors import bearer_failure
from paced.web.plain import PlainRoute
from paced.web.templating import iso_time


class ApiError(BaseModel):
    error: str = Field(examples=["invalid_token"])
    error_description: str = Field(examples=["The access token expired."])


class Me(BaseModel):
    id: str = Field(examples=["user_4fK2mQ9xZr8LwT1bN6yH3cVd"])
    email: str = Field(examples=["ann@example.com"])
    name: str = Field(examples=["Ann"])
    time_zone: str = Field(description="An IANA time zone name.", examples=["UTC"])
    created_at: str = Field(description="ISO 8601, UTC.", examples=["2026-01-15T12:00:00Z"])
    updated_at: str = Field(description="ISO 8601, UTC.", examples=["2026-01-15T12:00:00Z"])


def _challenge(description: str) -> dict[str, Any]:
    return {
        "model": ApiError,
        "description": description,
        "headers": {
            "WWW-Authenticate": {
                "description": 'The RFC 6750 challenge, e.g. `Bearer realm="Paced Email"`.',
                "schema": {"type": "string"},
            }
        },
    }


_SCOPE_HEADERS = {
    "X-OAuth-Scopes": {
        "description": "The scopes the token holds, e.g. `read, write`.",
        "schema": {"type": "string"},
    },
    "X-Accepted-OAuth-Scopes": {
        "description": "The scope this endpoint needs.",
        "schema": {"type": "string"},
    },
}

router = APIRouter(
    prefix="/api/v1",
    tags=["API"],
    responses={
        400: _challenge("A malformed `Authorization` header (`invalid_request`)."),
        401: _challenge(
            "No credentials (`unauthorized`, no `error` attribute in the challenge), or a "
            "token that is malformed, unknown, expired or revoked (`invalid_token`)."
        ),
        403: _challenge("The token lacks the scope (`insufficient_scope`)."),
        **openapi.COMMON,
    },
)


def user_json(user: User) -> dict[str, str]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "time_zone": user.time_zone,
        "created_at": iso_time(user.created_at),
        "updated_at": iso_time(user.updated_at),
    }


@router.get(
    "/me",
    response_model=Me,
    summary="The account the token acts for",
    description="Needs the `read` scope.",
    responses={200: {"headers": _SCOPE_HEADERS}},
    openapi_extra=SECURED,
)
async def me(principal: ApiPrincipal) -> JSONResponse:
    return api_json(principal, "read", user_json(principal.user))


async def _me(request: Request) -> Response:
    try:
        principal = await require_scope("read")(request)
    except BearerError as error:
        # Answered here, as the exception handler would: unwinding through Starlette's
        # exception middleware is slower, on the path a misconfigured client hammers.
        return bearer_failure(error)
    return await me(principal)


# The same endpoints as plain Starlette routes, which create_app puts ahead of every
# other route (paced.web.app).
PLAIN_ROUTES: list[BaseRoute] = [
    PlainRoute("/api/v1/me", _me, methods=["GET"], include_in_schema=False),
]
