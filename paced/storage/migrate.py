"""Alembic, driven from code: `paced db upgrade` and `paced serve` call `upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock `upgrade` holds on PostgreSQL: any constant, the same everywhere.
LOCK = 0x70616365  # "pace"


def alembic_config(connection: Connection | None = None) -> Config:
    # Imported here: a serving process never migrates, and Alembic costs it 10 MiB.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Nodes started at once migrate one after the other, never over each other
            # (on SQLite, BEGIN IMMEDIATE queues them already).
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        await connection.run_sync(run)


async def revisions(engine: AsyncEngine) -> tuple[str | None, str]:
    """(the database's revision, the newest this version ships), without changing
    anything: `paced check` reports a schema left behind."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    return current, head
