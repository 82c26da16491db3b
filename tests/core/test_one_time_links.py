"""One-time links: random, stored as digests, expiring, usable once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paced.core import one_time_links
from paced.core.ids import digest
from paced.core.one_time_links import Link, Purpose

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


class MemoryLinks:
    def __init__(self) -> None:
        self.rows: dict[str, Link] = {}

    async def add_link(
        self, *, digest: str, user_id: str, purpose: Purpose, now: datetime, expires_at: datetime
    ) -> None:
        self.rows[digest] = Link(user_id, purpose, expires_at, None)

    async def link_by_digest(self, digest: str) -> Link | None:
        return self.rows.get(digest)

    async def use_link(self, digest: str, purpose: Purpose, now: datetime) -> bool:
        link = self.rows.get(digest)
        if link is None or link.purpose != purpose or link.used_at or link.expires_at <= now:
            return False
        self.rows[digest] = Link(link.user_id, link.purpose, link.expires_at, now)
        return True

    async def end_links(self, user_id: str, purpose: Purpose, now: datetime) -> None:
        for key, link in list(self.rows.items()):
            if link.user_id == user_id and link.purpose == purpose and link.used_at is None:
                self.rows[key] = Link(link.user_id, link.purpose, link.expires_at, now)


async def test_a_link_is_kept_only_as_its_digest_and_works_once() -> None:
    store = MemoryLinks()
    token = await one_time_links.issue(store, "user_1", "password_reset", NOW, timedelta(hours=1))
    assert len(token) >= 43 and list(store.rows) == [digest(token)]
    assert token not in repr(store.rows)
    assert await one_time_links.valid(store, token, "password_reset", NOW) is not None
    assert await one_time_links.use(store, token, "password_reset", NOW) == "user_1"
    assert await one_time_links.use(store, token, "password_reset", NOW) is None
    assert await one_time_links.valid(store, token, "password_reset", NOW) is None


@pytest.mark.parametrize(
    ("later", "purpose"),
    [(timedelta(hours=1), "password_reset"), (timedelta(0), "verify_email")],
    ids=["an expired link", "a link of another purpose"],
)
async def test_a_link_cannot_be_used(later: timedelta, purpose: Purpose) -> None:
    store = MemoryLinks()
    token = await one_time_links.issue(store, "user_1", "password_reset", NOW, timedelta(hours=1))
    assert await one_time_links.valid(store, token, purpose, NOW + later) is None
    assert await one_time_links.use(store, token, purpose, NOW + later) is None


@pytest.mark.parametrize("token", ["", "x" * 101, "unknown"], ids=["empty", "too long", "unknown"])
async def test_a_token_that_was_never_issued_is_no_link(token: str) -> None:
    assert await one_time_links.use(MemoryLinks(), token, "verify_email", NOW) is None


async def test_two_links_are_different() -> None:
    store = MemoryLinks()
    first = await one_time_links.issue(store, "u", "verify_email", NOW, timedelta(hours=24))
    second = await one_time_links.issue(store, "u", "verify_email", NOW, timedelta(hours=24))
    assert first != second
