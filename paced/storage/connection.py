"""What the rows of storage run their statements on: a unit of work's or a read's
connection, inside its transaction (`paced.storage.database`). Every statement runs on
the one executor of paced/storage/compiled.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import Dialect, Executable

from paced.storage.compiled import Rows


class StorageConnection(Protocol):
    # The database's SQLAlchemy dialect: `dialect.name` is "sqlite" or "postgresql", for
    # the few statements that each database writes its own way.
    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows:
        """Its rows, or for a write, how many rows it changed (`rowcount`)."""
        ...

    def begin_nested(self) -> AbstractAsyncContextManager[None]:
        """A SAVEPOINT: leaving it with an error undoes what ran inside, and only that."""
        ...

    def stream(self, statement: Executable, parameters: Any = None) -> AsyncIterator[Any]:
        """The rows of a large SELECT, read as they are iterated (`async for`)."""
        ...
