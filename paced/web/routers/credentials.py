"""`POST /api/v1/credentials/revoke`: anyone reports leaked credentials, which stop working
at once (`paced.core.leaks`; docs/secret-scanning.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from paced.core import leaks
from paced.web import metrics, openapi
from paced.web.deps import app_state
from paced.web.endpoints import Endpoints
from paced.web.json_response import JSONResponse
from paced.web.origin import origin_of

reports = Endpoints("api", tags=["API"], responses=dict(openapi.COMMON))


class LeakReport(BaseModel):
    credentials: list[str] = Field(
        max_length=leaks.MAX_CREDENTIALS,
        description=(
            "Secrets found in the open: personal access tokens (`pt_secret_…`), OAuth "
            "access and refresh tokens (`pt_oauth_…`, `pt_refresh_…`) and client secrets "
            "(`pt_client_…`). Anything else is ignored."
        ),
        examples=[["pt_secret_4fK2mQ9xZr8LwT1bN6yH3cVdA7pE5s1KFC0W"]],
    )


_METRIC: dict[leaks.Kind, metrics.Revoked | None] = {
    "personal_token": "personal_access_token",
    "oauth_access_token": "oauth_access_token",
    "oauth_grant": "oauth_grant",
    "client_secret": None,  # reported to its owner, not revoked
}

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": (
            "Always `{}`, whatever was found: the answer tells nothing of which values were real."
        ),
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": False},
                "example": {},
            }
        },
    },
    400: {
        "description": (
            "`invalid_request`: the body is not JSON, not an object with a `credentials` "
            "list, holds more than 1000 values, or a value that is not a string."
        ),
        "content": {
            "application/json": {
                "schema": openapi.ERROR,
                "example": {
                    "error": "invalid_request",
                    "error_description": "Every credential must be a string.",
                },
            }
        },
    },
}


async def _read(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():  # the edge caps its size (PACED_MAX_BODY_BYTES)
        body += chunk
    return bytes(body)


@reports.post(
    "/api/v1/credentials/revoke",
    status_code=202,
    summary="Revoke leaked credentials",
    description=(
        "Report secrets found where they should not be (a public repository, a paste, a "
        "log). No authentication: holding a secret proves it leaked. Every live personal "
        "access token among them is revoked; an OAuth access token is revoked alone, a "
        "refresh token ends its whole grant; a client secret is kept and its app's owner "
        "told. Each owner sees the event, with the secret's hint, in their security log. "
        "Limited to 60 reports a minute per address."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LeakReport.model_json_schema()}},
        }
    },
    responses=_ACCEPTED,
)
async def revoke_leaked(request: Request) -> Response:
    state = app_state(request)
    origin = origin_of(request)
    await state.rate_limits.credential_report(origin.ip)
    credentials = leaks.parse_report(await _read(request))
    async with state.database.unit_of_work() as store:
        found = await leaks.revoke_leaked(store, credentials, state.clock(), origin)
    for revoked in found:
        kind = _METRIC[revoked.kind]
        if kind is not None:
            metrics.revoked(kind)
    return JSONResponse({}, status_code=202)
