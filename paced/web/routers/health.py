"""`/healthz`: the process answers. `/readyz`: and its database does too."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from paced.web.deps import State

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(state: State) -> JSONResponse:
    try:
        async with asyncio.timeout(5):
            async with state.engine.execution_options(paced_read=True).connect() as connection:
                await connection.execute(text("SELECT 1"))
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
