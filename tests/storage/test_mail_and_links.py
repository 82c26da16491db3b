"""The outbox and the one-time links on the real databases: one winner under
concurrency, claims that never overlap, a link blanked once sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from paced.core import mail, one_time_links, password_reset, token_expiry
from paced.core.errors import Invalid
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.security_log import Origin
from paced.storage.database import Database, open_database
from paced.storage.models import mail_queue
from paced.storage.models import one_time_links as links_table
from paced.storage.purge import Retention, purge
from tests import token_rows
from tests.storage.test_grants import add_user

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ORIGIN = Origin(ip="203.0.113.7", user_agent="pytest")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


async def test_a_reset_link_is_used_by_exactly_one_of_many_concurrent_requests(
    engine: Database, database_url: str
) -> None:
    user_id = await add_user(engine, "ann@example.com")
    async with engine.unit_of_work() as store:
        token = await one_time_links.issue(
            store, user_id, "password_reset", NOW, timedelta(hours=1)
        )
    # Several engines: on PostgreSQL, connections racing as nodes would.
    engines = [open_database(database_url) for _ in range(4)]

    async def attempt(index: int) -> bool:
        try:
            async with engines[index % 4].unit_of_work() as store:
                await password_reset.reset(store, token, f"hash-{index}", NOW, origin=ORIGIN)
        except Invalid:
            return False
        return True

    try:
        outcomes = await asyncio.gather(*(attempt(i) for i in range(12)))
    finally:
        for other in engines:
            await other.close()
    assert outcomes.count(True) == 1
    async with engine.reading() as store:
        credentials = await store.credentials_by_email("ann@example.com")
        kinds = (await store.connection.execute(select(mail_queue.c.kind))).scalars().all()
    assert credentials is not None
    assert credentials.password_hash == f"hash-{outcomes.index(True)}"
    assert credentials.user.email_verified_at == NOW
    assert kinds == ["password_changed"]  # one message, from the one winner


async def test_only_a_digest_of_the_link_is_stored(engine: Database) -> None:
    user_id = await add_user(engine, "ann@example.com")
    async with engine.unit_of_work() as store:
        token = await one_time_links.issue(store, user_id, "verify_email", NOW, timedelta(days=1))
    async with engine.reading() as store:
        rows = (await store.connection.execute(select(links_table))).all()
    assert len(rows) == 1 and token not in str(rows[0])


async def queue(engine: Database, user_id: str, count: int) -> None:
    async with engine.unit_of_work() as store:
        for number in range(count):
            await mail.queue(store, user_id, "verify_email", NOW, ORIGIN, {"link": f"/l/{number}"})


async def test_concurrent_senders_never_claim_the_same_message(
    engine: Database, database_url: str
) -> None:
    user_id = await add_user(engine, "ann@example.com")
    await queue(engine, user_id, 30)
    engines = [open_database(database_url) for _ in range(3)]

    async def claim(other: Database) -> list[int]:
        async with other.unit_of_work() as store:
            found = await store.claim_due_mail(NOW, hold_until=NOW + timedelta(minutes=5), limit=20)
        return [queued.id for queued in found]

    try:
        claims = await asyncio.gather(*(claim(other) for other in engines * 2))
    finally:
        for other in engines:
            await other.close()
    claimed = [mail_id for found in claims for mail_id in found]
    assert len(claimed) == len(set(claimed)) == 30


async def test_a_claimed_message_is_due_again_after_its_hold_and_sent_once(
    engine: Database,
) -> None:
    user_id = await add_user(engine, "ann@example.com")
    await queue(engine, user_id, 1)
    hold = NOW + timedelta(minutes=5)
    async with engine.unit_of_work() as store:
        (first,) = await store.claim_due_mail(NOW, hold_until=hold, limit=5)
        assert await store.claim_due_mail(NOW, hold_until=hold, limit=5) == []
    assert first.recipient == "ann@example.com" and first.detail == {"link": "/l/0"}
    async with engine.unit_of_work() as store:  # its sender died: another takes it over
        (again,) = await store.claim_due_mail(hold, hold_until=hold + timedelta(minutes=5), limit=5)
        await store.mail_sent(again.id, hold)
    async with engine.reading() as store:
        (row,) = (await store.connection.execute(select(mail_queue))).all()
    assert row.sent_at == hold and row.next_attempt_at is None and row.attempts == 1
    assert json.loads(row.detail) == {}  # the link is not kept once sent


async def test_a_failed_message_keeps_its_error_and_waits_for_its_retry(
    engine: Database,
) -> None:
    user_id = await add_user(engine, "ann@example.com")
    await queue(engine, user_id, 1)
    async with engine.unit_of_work() as store:
        (queued,) = await store.claim_due_mail(NOW, hold_until=NOW + timedelta(minutes=5), limit=5)
        retry = NOW + timedelta(seconds=30)
        await store.mail_failed(queued.id, NOW, retry_at=retry, error="SMTPResponseException: 451")
        assert await store.claim_due_mail(NOW, hold_until=NOW, limit=5) == []
        (again,) = await store.claim_due_mail(retry, hold_until=retry, limit=5)
    assert again.attempts == 1
    async with engine.reading() as store:
        (row,) = (await store.connection.execute(select(mail_queue))).all()
    assert row.last_error == "SMTPResponseException: 451"


async def test_purge_deletes_used_links_and_old_sent_mail_only(engine: Database) -> None:
    user_id = await add_user(engine, "ann@example.com")
    async with engine.unit_of_work() as store:
        old = await one_time_links.issue(store, user_id, "password_reset", NOW, timedelta(hours=1))
        await store.use_link(digest(old), "password_reset", NOW)
        live = await one_time_links.issue(
            store, user_id, "verify_email", NOW + timedelta(days=30), timedelta(days=1)
        )
    await queue(engine, user_id, 3)
    async with engine.unit_of_work() as store:
        first, second, _ = await store.claim_due_mail(NOW, hold_until=NOW, limit=3)
        await store.mail_sent(first.id, NOW)
        await store.mail_failed(second.id, NOW, retry_at=None, error="given up")
    later = NOW + timedelta(days=31)
    deleted = await purge(engine, Retention(), later)
    assert deleted["one_time_links"] == 1 and deleted["mail_queue"] == 2
    async with engine.reading() as store:
        assert await store.link_by_digest(digest(live)) is not None
        left = (await store.connection.execute(select(mail_queue.c.sent_at))).scalars().all()
    assert left == [None]  # the message still due stays, however old


async def test_owners_of_tokens_expiring_within_a_week_are_told_once(
    engine: Database,
) -> None:
    user = await token_rows.add_user(engine, NOW)
    soon = await token_rows.add_personal_token(
        engine, user, NOW, expires_at=NOW + timedelta(days=9)
    )
    await token_rows.add_personal_token(engine, user, NOW, expires_at=NOW + timedelta(days=30))
    await token_rows.add_personal_token(engine, user, NOW)  # never expires
    revoked = await token_rows.add_personal_token(
        engine, user, NOW, expires_at=NOW + timedelta(days=9)
    )
    async with engine.unit_of_work() as store:
        await store.revoke_personal_token(revoked.token.id, NOW)
    later = NOW + timedelta(days=3)  # `soon` has six days left
    assert [await told(engine, later) for _ in range(2)] == [1, 0]
    expiring = [m for m in await queued_kinds(engine) if m[0] == "token_expiring"]
    assert expiring == [("token_expiring", soon.token.id)]
    assert await told(engine, NOW + timedelta(days=10)) == 0  # `soon` expired: told already


async def told(engine: Database, now: datetime) -> int:
    async with engine.unit_of_work() as store:
        return await token_expiry.notify_batch(store, now, Policy())


async def queued_kinds(engine: Database) -> list[tuple[str, object]]:
    async with engine.reading() as store:
        rows = (await store.connection.execute(select(mail_queue).order_by(mail_queue.c.id))).all()
    return [(row.kind, json.loads(row.detail).get("token_id")) for row in rows]
