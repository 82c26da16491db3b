"""Units of work on PostgreSQL: one transaction that SQLAlchemy and asyncpg share.

A unit of work takes a connection of the engine's pool set to autocommit, so that
SQLAlchemy's asyncpg adapter never opens a transaction of its own, and sends BEGIN and
COMMIT itself on the asyncpg connection underneath. Statements marked `direct` (the
token endpoint's) then run on that asyncpg connection (paced/storage/direct.py); every
other statement runs through SQLAlchemy on the same connection; both inside the one
transaction.

Between units of work, up to the pool's size of these connections stay checked out,
here: a checkout from SQLAlchemy's pool and its return cost more than a statement
(docs/benchmarks.md). A connection never waits here inside a transaction: SQLAlchemy,
which thinks it in autocommit, would not roll it back. When ending a transaction fails
or is interrupted, the connection is closed instead, and so are the ones waiting here,
which most likely share its fate (a restarted server): the next units of work open new
ones.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from paced.storage.direct import plan

log = logging.getLogger("paced.storage")


class PostgresConnection:
    """The part of `AsyncConnection` that storage uses, with the direct statements on
    asyncpg, and the end of the transaction."""

    __slots__ = ("ended", "raw", "sqlalchemy")

    def __init__(self, connection: AsyncConnection, raw: Any) -> None:
        self.sqlalchemy = connection
        self.raw = raw
        self.ended = False

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        planned = plan(statement, parameters, self.sqlalchemy.dialect)
        if planned is not None:
            return await planned.run_asyncpg(self.raw, parameters)
        return await self.sqlalchemy.execute(statement, parameters)

    def begin_nested(self) -> Any:
        return self.sqlalchemy.begin_nested()

    async def stream(self, statement: Executable) -> Any:
        return await self.sqlalchemy.stream(statement)

    async def commit(self) -> None:
        await self.raw.execute("COMMIT")
        self.ended = True

    async def roll_back(self) -> None:
        """Undo the transaction, on the way out of a unit of work that failed: if the
        connection is beyond that (closed, interrupted), the unit's own error is the one
        to raise, and the connection is closed (`Connections.transaction`)."""
        try:
            await self.raw.execute("ROLLBACK")
        except Exception as error:
            log.warning("rolling back a unit of work failed: %s", error)
            return
        self.ended = True


class Connections:
    """The connections of an engine's units of work."""

    def __init__(self, engine: AsyncEngine, keep: int) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._keep = keep
        self._idle: list[PostgresConnection] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        """A connection inside a transaction, which the caller ends (`commit` or
        `roll_back`)."""
        shared = self._idle.pop() if self._idle else await self._open()
        shared.ended = False
        try:
            await shared.raw.execute("BEGIN")
            yield shared
        finally:
            if shared.ended and not shared.raw.is_in_transaction():
                await self._put_back(shared)
            else:
                shared.raw.terminate()  # closed at once, whatever interrupted it
                await _discard(shared)
                await self.close(invalidate=True)

    async def _open(self) -> PostgresConnection:
        connection = await self._engine.connect()
        raw = (await connection.get_raw_connection()).driver_connection
        return PostgresConnection(connection, raw)

    async def _put_back(self, shared: PostgresConnection) -> None:
        if shared.sqlalchemy.in_transaction():
            # SQLAlchemy's own bookkeeping of the statements it ran; autocommit: the
            # driver sends nothing.
            await shared.sqlalchemy.rollback()
        if len(self._idle) < self._keep:
            self._idle.append(shared)
        else:
            await shared.sqlalchemy.close()

    async def close(self, *, invalidate: bool = False) -> None:
        """Close the connections waiting here (when the engine is disposed of)."""
        idle, self._idle = self._idle, []
        for shared in idle:
            if invalidate:
                await _discard(shared)
            else:
                await shared.sqlalchemy.close()


async def _discard(shared: PostgresConnection) -> None:
    """Close a connection and give its place in the pool back. On the way out of a
    failure: its own failure is only logged, so that the first one is what is raised."""
    try:
        await shared.sqlalchemy.invalidate()
        await shared.sqlalchemy.close()
    except Exception as error:
        log.warning("closing a broken connection failed: %s", error)
