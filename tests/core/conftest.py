"""Fixtures of the core's tests that run their use cases on a real database: the engine,
a person (Ann) and her confidential app (Zapier)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.storage.engine import create_engine, dispose
from tests.oauth_helpers import Client, Person, add_client, add_user


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await dispose(engine)


@pytest.fixture
async def ann(engine: AsyncEngine) -> Person:
    return await add_user(engine)


@pytest.fixture
async def zapier(engine: AsyncEngine, ann: Person) -> Client:
    return await add_client(engine, ann)
