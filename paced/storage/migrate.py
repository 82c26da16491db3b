"""Alembic, driven from code: `paced db upgrade` and `paced serve` call `upgrade`.

Migrations run on a SQLAlchemy engine of their own, made for the occasion and disposed
of after: on SQLite a synchronous one in a worker thread, on PostgreSQL an asyncpg one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from paced.storage.database import backend_of

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock `upgrade` holds on PostgreSQL: any constant, the same everywhere.
LOCK = 0x70616365  # "pace"
T = TypeVar("T")


def alembic_config(connection: Connection | None = None) -> Config:
    # Imported here: a serving process never migrates, and Alembic costs it 10 MiB.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def _on_connection(url: str, run: Callable[[Connection], T], *, db_timeout: float) -> T:
    """`run` inside a transaction of its own on the database of `url`."""
    if backend_of(url) == "sqlite":
        return await asyncio.to_thread(_on_sqlite, url, run, db_timeout)
    # Imported here: sqlalchemy.ext.asyncio brings sqlalchemy.orm, 7 MiB that `paced serve`
    # (which migrates in a child process) would otherwise hold in every worker.
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        make_url(url).set(drivername="postgresql+asyncpg"),
        poolclass=NullPool,
        connect_args={"timeout": db_timeout, "command_timeout": db_timeout},
        hide_parameters=True,
    )
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(run)
    finally:
        await engine.dispose()


def _on_sqlite(url: str, run: Callable[[Connection], T], timeout: float) -> T:
    from paced.storage.sqlite import create_private, enable_wal

    path = make_url(url).database or ""
    create_private(Path(path))
    engine = create_engine(
        f"sqlite+pysqlite:///{path}", poolclass=NullPool, connect_args={"timeout": timeout}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins, and take the
        # write lock up front: migrations of processes started together queue.
        dbapi_connection.isolation_level = None
        enable_wal(dbapi_connection, time.monotonic() + timeout)
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            return run(connection)
    finally:
        engine.dispose()


async def upgrade(url: str, revision: str = "head", *, db_timeout: float = 30.0) -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Nodes started at once migrate one after the other, never over each other
            # (on SQLite, BEGIN IMMEDIATE queues them already).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        command.upgrade(alembic_config(connection), revision)

    await _on_connection(url, run, db_timeout=db_timeout)


async def revisions(url: str, *, db_timeout: float = 30.0) -> tuple[str | None, str]:
    """(the database's revision, the newest this version ships), without changing
    anything: `paced check` reports a schema left behind."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    current = await _on_connection(
        url,
        lambda connection: MigrationContext.configure(connection).get_current_revision(),
        db_timeout=db_timeout,
    )
    return current, head
