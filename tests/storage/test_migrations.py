"""Migrations reach head on an empty database and agree with the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from paced.storage.engine import create_engine, dispose
from paced.storage.migrate import upgrade
from paced.storage.models import metadata
from tests import databases


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def diff(sync: Connection) -> list[object]:
                return compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )

            assert await connection.run_sync(diff) == []
            version = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
            assert version is not None
    finally:
        await dispose(engine)


async def test_nodes_that_start_together_on_an_empty_database_migrate_one_after_the_other(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with databases.empty_database(backend, tmp_path) as fresh:
        engines = [create_engine(fresh) for _ in range(3)]
        try:
            await asyncio.gather(*(upgrade(engine) for engine in engines))
            async with engines[0].connect() as connection:
                versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
                assert len(versions.all()) == 1
        finally:
            for engine in engines:
                await dispose(engine)
