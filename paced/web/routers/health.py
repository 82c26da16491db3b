"""`/healthz`: the process answers. `/readyz`: and its database does too."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from paced.web.deps import app_state
from paced.web.endpoints import Endpoints
from paced.web.json_response import JSONResponse

health = Endpoints("api", tags=[], in_schema=False)


@health.get("/healthz")
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@health.get("/readyz")
async def readyz(request: Request) -> Response:
    state = app_state(request)
    try:
        async with asyncio.timeout(5):
            async with state.database.reading() as store:
                await store.connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(
            {
                "status": "unavailable",
                "error": "database_unavailable",
                "error_description": "The database cannot be reached.",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok"})
