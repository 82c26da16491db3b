"""`/bench/floor`: the API's answer with no authentication and no database.

Mounted only when PACED_BENCH_FLOOR is set: the benchmark's yardstick, measured in the
same process, through the same middleware, as `/api/v1/me`.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from paced.web.plain import PlainRoute

router = APIRouter(include_in_schema=False)

_ME = {
    "id": "user_000000000000000000000000",
    "email": "bench@example.com",
    "name": "Bench",
    "time_zone": "UTC",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


@router.get("/bench/floor")
async def floor() -> JSONResponse:
    return JSONResponse(
        _ME, headers={"X-OAuth-Scopes": "read, write", "X-Accepted-OAuth-Scopes": "read"}
    )


async def _floor(_request: Request) -> JSONResponse:
    return await floor()


# Served like the hot routes it is measured against: a plain Starlette route ahead of
# every other (paced.web.app).
PLAIN_ROUTES: list[BaseRoute] = [
    PlainRoute("/bench/floor", _floor, methods=["GET"], include_in_schema=False),
]
