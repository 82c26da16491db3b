"""Migrations reach head on an empty database and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from paced.storage.engine import create_engine
from paced.storage.models import metadata


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
        await engine.dispose()
