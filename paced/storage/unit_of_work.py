"""One transaction per use case.

It commits when the block ends normally *or* with a `PacedError`: a revocation that
punishes an attack (a replayed code or refresh token) must hold although the request
fails. Only an unexpected exception rolls back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.errors import PacedError
from paced.storage.store import Store


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine) -> AsyncIterator[Store]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield Store(connection)
        except PacedError:
            await transaction.commit()
            raise
        except BaseException:
            await transaction.rollback()
            raise
        else:
            await transaction.commit()


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[Store]:
    """A read-only view; on SQLite it does not take the write lock."""
    from paced.storage.engine import READ

    async with engine.connect() as connection:
        await connection.execution_options(**{READ: True})
        yield Store(connection)
