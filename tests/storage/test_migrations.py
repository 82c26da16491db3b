"""Migrations reach head on an empty database and agree with the models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from paced.core.accounts import email_key
from paced.storage.engine import create_engine, dispose
from paced.storage.migrate import upgrade
from paced.storage.models import apps, grants, metadata, users
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


async def test_migration_0004_rekeys_emails_by_nfkc_casefold_and_the_older_claim_wins(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    day = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = {  # email -> days after `day` the account was made
        "\uff4bate@example.com": 0,  # fullwidth k, older than...
        "kate@example.com": 1,  # ...the account already holding the key: it keeps it
        "\uff22ob@example.com": 2,  # fullwidth B, alone: rekeyed
        "\uff44an@example.com": 3,  # fullwidth d, the older of two new claims: rekeyed
        "\u217ean@example.com": 4,  # small roman numeral 500, the later claim: kept
        "ann@example.com": 5,
    }
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = create_engine(fresh)
        try:
            await upgrade(engine, "0003")
            async with engine.begin() as connection:
                for email, days in accounts.items():
                    await connection.execute(
                        insert(users).values(
                            id=f"user_{days}",
                            email=email,
                            email_key=email.strip().casefold(),  # the key before 0004
                            name="",
                            time_zone="UTC",
                            password_hash="x",
                            created_at=day + timedelta(days=days),
                            updated_at=day,
                        )
                    )
            await upgrade(engine)
            async with engine.connect() as connection:
                keys = dict(
                    (await connection.execute(select(users.c.email, users.c.email_key))).all()
                )
        finally:
            await dispose(engine)
    assert keys == {
        "\uff4bate@example.com": "\uff4bate@example.com",
        "kate@example.com": "kate@example.com",
        "\uff22ob@example.com": "bob@example.com",
        "\uff44an@example.com": "dan@example.com",
        "\u217ean@example.com": "\u217ean@example.com",
        "ann@example.com": "ann@example.com",
    }
    assert {email_key(e) for e in accounts} == {
        "kate@example.com",
        "bob@example.com",
        "dan@example.com",
        "ann@example.com",
    }


async def test_migration_0009_lets_apps_go_ownerless_and_keeps_every_grant(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite the NOT NULL goes by a schema edit, not by rebuilding `apps`: a rebuild
    drops the table, and with foreign keys on that deletes every grant (ON DELETE
    CASCADE)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    day = datetime(2026, 1, 1, tzinfo=UTC)
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = create_engine(fresh)
        try:
            await upgrade(engine, "0005")
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO users (id, email, email_key, name, time_zone, "
                        "password_hash, created_at, updated_at) VALUES ('user_1', 'a@x.example', "
                        "'a@x.example', '', 'UTC', 'x', :day, :day)"
                    ),
                    {"day": day},
                )
                await connection.execute(
                    text(
                        "INSERT INTO apps (id, owner_id, name, description, homepage_url, "
                        "client_id, redirect_uris, public, created_at, updated_at) VALUES "
                        "('app_1', 'user_1', 'A', '', '', 'c1', '[]', false, :day, :day)"
                    ),
                    {"day": day},
                )
                await connection.execute(
                    text(
                        "INSERT INTO grants (id, app_id, user_id, scopes, created_at) "
                        "VALUES ('grant_1', 'app_1', 'user_1', 'read', :day)"
                    ),
                    {"day": day},
                )
            await upgrade(engine)
            async with engine.begin() as connection:
                await connection.execute(
                    insert(apps).values(
                        id="app_2",
                        owner_id=None,
                        name="Self-registered",
                        description="",
                        homepage_url="",
                        client_id="https://client.example/" + "m" * 900,
                        redirect_uris="[]",
                        public=True,
                        created_at=day,
                        updated_at=day,
                        registration="document",
                    )
                )
            async with engine.connect() as connection:
                kept = (await connection.execute(select(grants.c.id, grants.c.resource))).all()
                kinds = dict(
                    (await connection.execute(select(apps.c.id, apps.c.registration))).all()
                )
        finally:
            await dispose(engine)
    assert [tuple(row) for row in kept] == [("grant_1", None)]
    assert kinds == {"app_1": "developer", "app_2": "document"}
