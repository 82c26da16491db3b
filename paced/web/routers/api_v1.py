"""`/api/v1`: the Bearer-protected API (docs/reference.md §5)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from paced.core.records import Principal, User
from paced.web import openapi
from paced.web.bearer import api_json
from paced.web.endpoints import Endpoints
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

api = Endpoints(
    "api",
    tags=["API"],
    claims="/api/",
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


@api.get(
    "/api/v1/me",
    scope="read",
    response_model=Me,
    summary="The account the token acts for",
    description="Needs the `read` scope.",
    responses={200: {"headers": _SCOPE_HEADERS}},
)
async def me(request: Request, principal: Principal) -> Response:
    return api_json(principal, "read", user_json(principal.user))
