"""Test databases: a SQLite file always, and a PostgreSQL database of its own per run
when PACED_TEST_DATABASE_URL names a server (created at the start, dropped at the end)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from paced.storage.database import open_database
from paced.storage.migrate import upgrade
from paced.storage.models import metadata

POSTGRES_ADMIN_URL = os.environ.get("PACED_TEST_DATABASE_URL", "")


def run_sync(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end from sync code, even where a loop is running already
    (Playwright's sync API keeps one in the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_ADMIN_URL else ["sqlite"]


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A URL to a new, empty database, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'paced-{secrets.token_hex(4)}.db'}"
        return
    name = f"paced_test_{secrets.token_hex(6)}"
    run_sync(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate(url: str) -> None:
    run_sync(upgrade(url))


def wipe(url: str) -> None:
    """Every row gone, the schema kept: cheaper than a new database per test."""

    async def run() -> None:
        database = open_database(url)
        try:
            async with database.unit_of_work() as store:
                for table in reversed(metadata.sorted_tables):
                    await store.connection.execute(delete(table))
        finally:
            await database.close()

    run_sync(run())
