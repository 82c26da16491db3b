"""SecurityEventRows on every database: appending, an account's pages, the operators'
query, and an account's log going with the account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from paced.core import security_log
from paced.core.records import SecurityEvent
from paced.core.security_log import Origin
from paced.storage.database import Database, open_database
from paced.storage.models import security_events, users
from paced.storage.security_log import AuditQuery
from tests.helpers import begin, connect
from tests.token_rows import add_user

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ORIGIN = Origin(ip="2001:db8::1", user_agent="Firefox")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


async def audit(engine: Database, **query: object) -> list[tuple[SecurityEvent, str | None]]:
    async with engine.reading() as store:
        return [found async for found in store.audit(AuditQuery(**query))]


async def test_an_event_comes_back_as_it_was_recorded(engine: Database) -> None:
    ann = await add_user(engine, NOW)
    detail = {"name": "Zapier \u2013 sync", "scopes": ["read", "write"], "public": False, "n": 3}
    async with engine.unit_of_work() as store:
        await security_log.record(store, "app_created", NOW, ORIGIN, user_id=ann.id, detail=detail)
        page = await store.security_events_of(ann.id, limit=10)
    (event,) = page
    assert event.id > 0
    assert (event.user_id, event.event, event.actor, event.ip, event.user_agent) == (
        ann.id,
        "app_created",
        ann.id,
        "2001:db8::1",
        "Firefox",
    )
    assert event.detail == detail and event.created_at == NOW


async def test_an_accounts_events_are_newest_first_even_within_one_second(
    engine: Database,
) -> None:
    ann, bob = await add_user(engine, NOW), await add_user(engine, NOW, "bob@example.com")
    async with engine.unit_of_work() as store:
        for n, event in enumerate(("sign_in", "password_changed", "sign_in_failed")):
            await security_log.record(store, event, NOW, ORIGIN, user_id=ann.id, detail={"n": n})
        await security_log.record(store, "sign_in", NOW - timedelta(days=1), ORIGIN, user_id=ann.id)
        await security_log.record(store, "sign_in", NOW, ORIGIN, user_id=bob.id)
    async with engine.reading() as store:
        first = await store.security_events_of(ann.id, limit=3)
        rest = await store.security_events_of(ann.id, limit=3, offset=3)
    assert [e.event for e in first] == ["sign_in_failed", "password_changed", "sign_in"]
    assert [(e.event, e.created_at) for e in rest] == [("sign_in", NOW - timedelta(days=1))]


async def test_the_operators_query_filters_by_account_event_and_time(engine: Database) -> None:
    ann = await add_user(engine, NOW)
    async with engine.unit_of_work() as store:
        for hours, event, user_id in (
            (0, "sign_in", ann.id),
            (1, "sign_in_failed", None),
            (2, "sign_in_failed", ann.id),
            (3, "sign_in", ann.id),
        ):
            await security_log.record(
                store,
                event,
                NOW + timedelta(hours=hours),
                ORIGIN,
                user_id=user_id,
            )
    everything = await audit(engine)
    assert [(e.event, email) for e, email in everything] == [
        ("sign_in", "ann@example.com"),
        ("sign_in_failed", None),
        ("sign_in_failed", "ann@example.com"),
        ("sign_in", "ann@example.com"),
    ]
    assert len(await audit(engine, user_id=ann.id)) == 3
    assert len(await audit(engine, event="sign_in_failed")) == 2
    window = await audit(engine, since=NOW + timedelta(hours=1), until=NOW + timedelta(hours=3))
    assert [e.created_at for e, _ in window] == [NOW + timedelta(hours=1), NOW + timedelta(hours=2)]
    assert (
        await audit(engine, user_id=ann.id, event="sign_in", since=NOW + timedelta(hours=4)) == []
    )


async def test_an_accounts_log_goes_with_the_account(engine: Database) -> None:
    ann = await add_user(engine, NOW)
    async with engine.unit_of_work() as store:
        await security_log.record(store, "sign_in", NOW, ORIGIN, user_id=ann.id)
        await security_log.record(store, "sign_in_failed", NOW, ORIGIN, user_id=None)
    async with begin(engine) as connection:
        await connection.execute(delete(users).where(users.c.id == ann.id))
    remaining = await audit(engine)
    assert [(e.event, e.user_id) for e, _ in remaining] == [("sign_in_failed", None)]


async def test_a_failed_use_case_keeps_its_event_an_unexpected_error_does_not(
    engine: Database,
) -> None:
    from paced.core.errors import InvalidGrant

    ann = await add_user(engine, NOW)
    with pytest.raises(InvalidGrant):
        async with engine.unit_of_work() as store:
            await security_log.record(store, "refresh_token_reused", NOW, ORIGIN, user_id=ann.id)
            raise InvalidGrant("reused")
    with pytest.raises(RuntimeError):
        async with engine.unit_of_work() as store:
            await security_log.record(store, "sign_in", NOW, ORIGIN, user_id=ann.id)
            raise RuntimeError("bug")
    async with connect(engine) as connection:
        rows = (await connection.execute(security_events.select())).all()
    assert [row.event for row in rows] == ["refresh_token_reused"]
