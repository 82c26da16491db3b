"""`Database`: what the app holds of its database, one object per backend, built once
from settings (`open_database`) and closed when the app stops.

- `unit_of_work()`: one transaction per use case, as a `Store`. It commits when the
  block ends normally *or* with a `PacedError`: a revocation that punishes an attack (a
  replayed code or refresh token) must hold although the request fails. Only an
  unexpected exception rolls back.
- `reading()`: a read-only `Store`; on SQLite it takes no write lock, so it never waits
  for writers nor they for it. What it changes is undone.
- the Bearer check (`paced.core.store.BearerStore`): the hot path of every API request,
  a read that takes no lock and sees every committed revocation.
- `plans`: its statements compiled (paced/storage/compiled.py), the one way a statement
  runs; its `listeners` hear the SQL of each.
- `close()`.

Each turns its driver's errors into `paced.storage.errors`' (`Unavailable`,
`Unstorable`, `Conflict`). Each owns its connections, its writers' lock and its
statements: `SqliteDatabase` (paced/storage/sqlite.py) runs everything on the event
loop's thread on sqlite3 connections of its own, `PostgresDatabase`
(paced/storage/postgres.py) on one pool of asyncpg connections served first come, first
served.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol

from sqlalchemy.engine import make_url

from paced.core.store import BearerStore
from paced.storage.compiled import Plans
from paced.storage.store import Store

Backend = Literal["sqlite", "postgresql"]


class Database(BearerStore, Protocol):
    @property
    def backend(self) -> Backend: ...

    @property
    def plans(self) -> Plans: ...

    def unit_of_work(self) -> AbstractAsyncContextManager[Store]: ...

    def reading(self) -> AbstractAsyncContextManager[Store]: ...

    async def close(self) -> None: ...


def backend_of(url: str) -> Backend:
    driver = make_url(url).drivername
    if driver in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        return "postgresql"
    if driver in ("sqlite", "sqlite+pysqlite"):
        return "sqlite"
    raise ValueError(f"unsupported database URL scheme {driver!r}: use sqlite:/// or postgresql://")


def open_database(url: str, *, pool_size: int = 10, timeout: float = 30.0) -> Database:
    """The database of a URL as operators write it: `sqlite:///PATH` or `postgresql://…`.
    Nothing connects until it is first used."""
    if backend_of(url) == "postgresql":
        # Imported here: a server on SQLite never loads asyncpg, a few MiB of its memory.
        from paced.storage.postgres import PostgresDatabase

        return PostgresDatabase(url, pool_size=pool_size, timeout=timeout)
    from paced.storage.sqlite import SqliteDatabase

    return SqliteDatabase(make_url(url).database or "", timeout=timeout)
