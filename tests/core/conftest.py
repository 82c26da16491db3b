"""Fixtures of the core's tests that run their use cases on a real database: the
database (named `engine`, as these tests call it), a person (Ann) and her confidential
app (Zapier)."""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from paced.storage.connection import StorageConnection
from paced.storage.database import Database, open_database
from paced.storage.store import Store
from tests.helpers import begin, connect
from tests.oauth_helpers import Client, Person, add_client, add_user


def _unit_of_work(database: Database) -> AbstractAsyncContextManager[Store]:
    return database.unit_of_work()


def _reading(database: Database) -> AbstractAsyncContextManager[Store]:
    return database.reading()


# These tests open units of work as `unit_of_work(engine)`, from a module of that name.
_module = types.ModuleType("paced.storage.unit_of_work")
_module.unit_of_work = _unit_of_work  # type: ignore[attr-defined]
_module.reading = _reading  # type: ignore[attr-defined]
sys.modules.setdefault("paced.storage.unit_of_work", _module)


class Engine:
    """A database that these tests also drive as an engine: `begin()` and `connect()`
    give a unit of work's and a read's connection."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __getattr__(self, name: str) -> Any:
        return getattr(self.database, name)

    def begin(self) -> AbstractAsyncContextManager[StorageConnection]:
        return begin(self.database)

    def connect(self) -> AbstractAsyncContextManager[StorageConnection]:
        return connect(self.database)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Any]:
    database = open_database(database_url)
    try:
        yield Engine(database)
    finally:
        await database.close()


@pytest.fixture
async def ann(engine: Database) -> Person:
    return await add_user(engine)


@pytest.fixture
async def zapier(engine: Database, ann: Person) -> Client:
    return await add_client(engine, ann)
