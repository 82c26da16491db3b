"""`/bench/floor`: the API's answer with no authentication and no database.

Mounted only when PACED_BENCH_FLOOR is set: the benchmark's yardstick, measured in the
same process, through the same middleware, as `/api/v1/me`. Not documented.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from paced.web.endpoints import Endpoints
from paced.web.json_response import JSONResponse

floor = Endpoints("api", tags=[], in_schema=False)

_ME = {
    "id": "user_000000000000000000000000",
    "email": "bench@example.com",
    "name": "Bench",
    "time_zone": "UTC",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


@floor.get("/bench/floor")
async def bench_floor(request: Request) -> Response:
    return JSONResponse(
        _ME, headers={"X-OAuth-Scopes": "read, write", "X-Accepted-OAuth-Scopes": "read"}
    )
