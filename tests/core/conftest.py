"""Fixtures of the core's tests, which run their use cases on the in-memory fake of the
storage protocols (tests/fakes.py): the store, a person (Ann) and her confidential app
(Zapier). What only a real database can show is tested in tests/storage/."""

from __future__ import annotations

import pytest

from tests.core.helpers import Client, Person, add_client, add_user
from tests.fakes import MemoryStore


@pytest.fixture
def memory() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def ann(memory: MemoryStore) -> Person:
    return await add_user(memory)


@pytest.fixture
async def zapier(memory: MemoryStore, ann: Person) -> Client:
    return await add_client(memory, ann)
