"""One transaction per use case.

It commits when the block ends normally *or* with a `PacedError`: a revocation that
punishes an attack (a replayed code or refresh token) must hold although the request
fails. Only an unexpected exception rolls back.

On SQLite, writers of one process take turns on an asyncio lock before `BEGIN
IMMEDIATE`. SQLite itself has one writer at a time too, but it makes the others poll
with growing sleeps (its busy handler), which leaves the lock idle while they sleep:
under concurrent writes that cut throughput by an order of magnitude.

On a SQLite file, both run on the event loop's thread (paced/storage/inline.py), and
the units of work that end while other writers wait their turn share one COMMIT (group
commit); each returns only once its changes are committed. On PostgreSQL, the
transaction is begun and ended on the asyncpg connection itself, which the token
endpoint's statements run on (paced/storage/postgres.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.errors import PacedError
from paced.storage.engine import READ, inline, units
from paced.storage.inline import InlineConnection
from paced.storage.store import Store

_WRITERS: WeakKeyDictionary[AsyncEngine, asyncio.Lock] = WeakKeyDictionary()


def _writer_turn(engine: AsyncEngine) -> AbstractAsyncContextManager[object]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _WRITERS.setdefault(engine, asyncio.Lock())


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine) -> AsyncIterator[Store]:
    twin = inline(engine)
    if twin is not None:
        async with twin.transaction(write=True) as connection:
            try:
                yield Store(InlineConnection(connection))
            except PacedError:
                twin.keep()
                raise
            twin.keep()
        return
    connections = units(engine)
    if connections is not None:
        async with connections.transaction() as shared:
            async with _ending(shared.commit, shared.roll_back):
                yield Store(shared)
        return
    async with _writer_turn(engine), engine.connect() as connection:
        transaction = await connection.begin()
        async with _ending(transaction.commit, transaction.rollback):
            yield Store(connection)


@asynccontextmanager
async def _ending(
    commit: Callable[[], Awaitable[None]], roll_back: Callable[[], Awaitable[None]]
) -> AsyncIterator[None]:
    """Commit when the block ends normally or with a `PacedError`; else roll back."""
    try:
        yield
    except PacedError:
        await commit()
        raise
    except BaseException:
        await roll_back()
        raise
    await commit()


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[Store]:
    """A read-only view; on SQLite it does not take the write lock."""
    twin = inline(engine)
    if twin is not None:
        async with twin.transaction(write=False) as connection:
            yield Store(InlineConnection(connection))
        return
    async with engine.connect() as connection:
        await connection.execution_options(**{READ: True})
        yield Store(connection)
