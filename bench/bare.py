"""The benchmark's yardstick: a bare Starlette app on uvicorn that answers `GET
/api/v1/me` with the same JSON and headers as paced, with no authentication, no
database and no middleware. bench/run.py serves it with the same server, on the same
pinned core, in the same run as paced, and reports every scenario against it.

    uvicorn --app-dir bench bare:app
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ME = {
    "id": "user_000000000000000000000000",
    "email": "bench@example.com",
    "name": "Bench",
    "time_zone": "UTC",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
HEADERS = {"X-OAuth-Scopes": "read, write", "X-Accepted-OAuth-Scopes": "read"}


async def me(_request: Request) -> JSONResponse:
    return JSONResponse(ME, headers=HEADERS)


app = Starlette(routes=[Route("/api/v1/me", me)])
