"""Migrations reach head on an empty database and agree with the models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from paced.core import personal_tokens, token_format
from paced.core.accounts import email_key
from paced.storage.database import open_database
from paced.storage.migrate import _on_connection, alembic_config, upgrade
from paced.storage.models import apps, grants, metadata, users
from tests import databases
from tests.helpers import ORIGIN, begin, connect


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = open_database(database_url)
    try:

        def diff(sync: Connection) -> list[object]:
            return compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata
            )

        assert await _on_connection(database_url, diff, db_timeout=5) == []
        async with connect(engine) as connection:
            version = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
            assert version is not None
    finally:
        await engine.close()


async def test_nodes_that_start_together_on_an_empty_database_migrate_one_after_the_other(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with databases.empty_database(backend, tmp_path) as fresh:
        engines = [open_database(fresh) for _ in range(3)]
        try:
            await asyncio.gather(*(upgrade(fresh) for _ in engines))
            async with connect(engines[0]) as connection:
                versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
                assert len(versions.all()) == 1
        finally:
            for engine in engines:
                await engine.close()


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
        engine = open_database(fresh)
        try:
            await upgrade(fresh, "0003")
            async with begin(engine) as connection:
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
            await upgrade(fresh)
            async with connect(engine) as connection:
                keys = dict(
                    (await connection.execute(select(users.c.email, users.c.email_key))).all()
                )
        finally:
            await engine.close()
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


async def test_migration_0006_leaves_older_credentials_without_a_hint(
    database_url: str, tmp_path: Path
) -> None:
    """A hint comes from the secret, which is gone: rows made before 0006 keep NULL, and
    the rows made after carry theirs."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = open_database(fresh)
        try:
            await upgrade(fresh, "0005")
            async with begin(engine) as connection:
                await connection.execute(
                    insert(users).values(
                        id="user_old",
                        email="old@example.com",
                        email_key="old@example.com",
                        name="",
                        time_zone="UTC",
                        password_hash="x",
                        created_at=now,
                        updated_at=now,
                    )
                )
                await connection.execute(
                    text(
                        "INSERT INTO personal_tokens (id, user_id, name, digest, scopes, created_at)"
                        " VALUES ('pat_old', 'user_old', 'old', :digest, 'read', :now)"
                    ),
                    {"digest": "d" * 64, "now": now},
                )
            await upgrade(fresh)
            async with engine.unit_of_work() as store:
                old = await store.personal_token_by_id("pat_old")
                user = await store.user_by_id("user_old")
                assert user is not None
                new = await personal_tokens.create(
                    store, user.id, personal_tokens.NewToken(name="new"), now, origin=ORIGIN
                )
            async with engine.reading() as store:
                listed = {t.name: t.hint for t in await store.personal_tokens_of(user.id)}
        finally:
            await engine.close()
    assert old is not None and old.hint is None
    assert listed == {"old": None, "new": token_format.hint(new.secret)}


async def test_migration_0009_gives_each_existing_session_a_public_id(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    day = datetime(2026, 1, 1, tzinfo=UTC)
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = open_database(fresh)
        try:
            await upgrade(fresh, "0005")
            async with begin(engine) as connection:
                await connection.execute(
                    insert(users).values(
                        id="user_1",
                        email="ann@example.com",
                        email_key="ann@example.com",
                        name="",
                        time_zone="UTC",
                        password_hash="x",
                        created_at=day,
                        updated_at=day,
                    )
                )
                for digest in ("a" * 64, "b" * 64):
                    await connection.execute(
                        text(
                            "INSERT INTO sessions (digest, user_id, ip, user_agent, created_at,"
                            " last_seen_at) VALUES (:digest, 'user_1', '', '', :day, :day)"
                        ),
                        {"digest": digest, "day": day.replace(tzinfo=None)},
                    )
            await upgrade(fresh)
            async with connect(engine) as connection:
                ids = (await connection.execute(text("SELECT id FROM sessions"))).scalars().all()
        finally:
            await engine.close()
    assert len(set(ids)) == 2
    assert all(i.startswith("session_") and len(i) == len("session_") + 24 for i in ids)


async def test_migration_0010_lets_apps_go_ownerless_and_keeps_every_grant(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite the NOT NULL goes by a schema edit, not by rebuilding `apps`: a rebuild
    drops the table, and with foreign keys on that deletes every grant (ON DELETE
    CASCADE)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    day = datetime(2026, 1, 1, tzinfo=UTC)
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = open_database(fresh)
        try:
            await upgrade(fresh, "0005")
            async with begin(engine) as connection:
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
            await upgrade(fresh)
            async with begin(engine) as connection:
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
            async with connect(engine) as connection:
                kept = (await connection.execute(select(grants.c.id, grants.c.resource))).all()
                kinds = dict(
                    (await connection.execute(select(apps.c.id, apps.c.registration))).all()
                )
        finally:
            await engine.close()
    assert [tuple(row) for row in kept] == [("grant_1", None)]
    assert kinds == {"app_1": "developer", "app_2": "document"}


async def test_migration_0011_gives_device_codes_a_resource_and_keeps_every_row(
    database_url: str, tmp_path: Path
) -> None:
    """A plain ADD COLUMN, and DROP COLUMN going down: no table is rebuilt, so an
    approved device code, its grant and the grant's tokens all stay."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    day = datetime(2026, 1, 1, tzinfo=UTC)
    with databases.empty_database(backend, tmp_path) as fresh:
        engine = open_database(fresh)
        try:
            await upgrade(fresh, "0010")
            async with begin(engine) as connection:
                for statement in (
                    "INSERT INTO users (id, email, email_key, name, time_zone, password_hash,"
                    " created_at, updated_at) VALUES ('user_1', 'a@x.example', 'a@x.example',"
                    " '', 'UTC', 'x', :day, :day)",
                    "INSERT INTO apps (id, owner_id, name, description, homepage_url, client_id,"
                    " redirect_uris, public, device_flow, created_at, updated_at) VALUES"
                    " ('app_1', 'user_1', 'A', '', '', 'c1', '[]', true, true, :day, :day)",
                    "INSERT INTO grants (id, app_id, user_id, scopes, created_at)"
                    " VALUES ('grant_1', 'app_1', 'user_1', 'read', :day)",
                    "INSERT INTO device_codes (digest, user_code_digest, app_id, scopes,"
                    " created_at, expires_at, poll_interval, next_poll_at, grant_id) VALUES"
                    " (:digest, :user_code, 'app_1', 'read', :day, :day, 5, :day, 'grant_1')",
                ):
                    await connection.execute(
                        text(statement), {"day": day, "digest": "d" * 64, "user_code": "u" * 64}
                    )
            await upgrade(fresh)
            async with begin(engine) as connection:
                await connection.execute(
                    text(
                        "INSERT INTO device_codes (digest, user_code_digest, app_id, scopes,"
                        " created_at, expires_at, poll_interval, next_poll_at, resource) VALUES"
                        " (:digest, :user_code, 'app_1', 'read', :day, :day, 5, :day, :resource)"
                    ),
                    {
                        "day": day,
                        "digest": "e" * 64,
                        "user_code": "v" * 64,
                        "resource": "https://paced.example/api/v1",
                    },
                )
            async with connect(engine) as connection:
                upgraded = (
                    await connection.execute(
                        text("SELECT digest, grant_id, resource FROM device_codes ORDER BY digest")
                    )
                ).all()
            await _on_connection(
                fresh, lambda sync: command.downgrade(alembic_config(sync), "0010"), db_timeout=5
            )
            async with connect(engine) as connection:
                downgraded = (
                    await connection.execute(
                        text("SELECT digest, grant_id FROM device_codes ORDER BY digest")
                    )
                ).all()
                kept = (await connection.execute(text("SELECT id FROM grants"))).scalars().all()
        finally:
            await engine.close()
    assert [tuple(row) for row in upgraded] == [
        ("d" * 64, "grant_1", None),
        ("e" * 64, None, "https://paced.example/api/v1"),
    ]
    assert [tuple(row) for row in downgraded] == [("d" * 64, "grant_1"), ("e" * 64, None)]
    assert kept == ["grant_1"]
