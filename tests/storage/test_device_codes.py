"""`paced.storage.device_codes` on every database: a user code already taken stores
nothing and leaves the transaction usable, and each change of state has one winner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from paced.core.records import DeviceCode
from paced.storage.database import Database, open_database
from tests.oauth_helpers import NOW, add_client, add_code, add_user

LATER = NOW + timedelta(minutes=15)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


async def a_code(engine: Database, digest: str = "d" * 64, user: str = "u" * 64) -> DeviceCode:
    owner = await add_user(engine, f"{digest[:6]}@example.com")
    client = await add_client(engine, owner, public=True, device_flow=True)
    async with engine.reading() as store:
        app = await store.app_by_client_id(client.client_id)
    assert app is not None
    return DeviceCode(digest, user, app, ("read",), NOW, LATER, 5, NOW, None, None, None)


async def test_a_taken_user_code_stores_nothing_and_the_unit_goes_on(engine: Database) -> None:
    code = await a_code(engine)
    async with engine.unit_of_work() as store:
        assert await store.add_device_code(code)
    async with engine.unit_of_work() as store:
        assert not await store.add_device_code(replace(code, digest="e" * 64))
        # The transaction is still good: another user code goes in.
        assert await store.add_device_code(
            replace(code, digest="e" * 64, user_code_digest="v" * 64)
        )
    async with engine.reading() as store:
        assert await store.device_code_by_digest("e" * 64) is not None
        found = await store.device_code_by_user_code("u" * 64)
    assert found is not None and found.digest == "d" * 64 and found.grant is None


async def test_of_concurrent_polls_in_time_one_records_its_poll(engine: Database) -> None:
    code = await a_code(engine)
    async with engine.unit_of_work() as store:
        await store.add_device_code(code)

    async def poll() -> bool:
        async with engine.unit_of_work() as store:
            return await store.poll_device_code(code.digest, NOW, NOW + timedelta(seconds=5))

    assert sorted(await asyncio.gather(*(poll() for _ in range(6)))) == [False] * 5 + [True]


async def test_of_concurrent_redemptions_one_wins(engine: Database) -> None:
    code = await a_code(engine)
    owner = await add_user(engine, "ann@example.com")
    client = await add_client(engine, owner)
    grant_id = (await add_code(engine, client, owner)).grant_id
    async with engine.unit_of_work() as store:
        await store.add_device_code(code)
        assert await store.approve_device_code(code.digest, grant_id, NOW)
        # Answered once: neither a second approval nor a denial changes it.
        assert not await store.approve_device_code(code.digest, grant_id, NOW)
        assert not await store.deny_device_code(code.digest, NOW)

    async def redeem() -> bool:
        async with engine.unit_of_work() as store:
            return await store.consume_device_code(code.digest, NOW)

    assert sorted(await asyncio.gather(*(redeem() for _ in range(6)))) == [False] * 5 + [True]


async def test_an_expired_code_cannot_be_answered(engine: Database) -> None:
    code = await a_code(engine)
    async with engine.unit_of_work() as store:
        await store.add_device_code(code)
        assert not await store.deny_device_code(code.digest, LATER)
        assert await store.deny_device_code(code.digest, LATER - timedelta(seconds=1))
