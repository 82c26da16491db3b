"""What the rows of storage run their statements on: a unit of work's or a read's
connection, inside its transaction (`paced.storage.database`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import CursorResult, Dialect, Executable


class StorageConnection(Protocol):
    # The database's SQLAlchemy dialect: `dialect.name` is "sqlite" or "postgresql", for
    # the few statements that each database writes its own way.
    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Its rows, or for a write, how many rows it changed (`rowcount`)."""
        ...

    def begin_nested(self) -> AbstractAsyncContextManager[Any]:
        """A SAVEPOINT: leaving it with an error undoes what ran inside, and only that."""
        ...

    async def stream(self, statement: Executable) -> Any:
        """The rows of a large SELECT, read as they are iterated (`async for`)."""
        ...
