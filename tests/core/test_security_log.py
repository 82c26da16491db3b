"""The security log's rules: who the actor is, what is kept of the origin, pages of events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import accounts, personal_tokens, security_log
from paced.core.records import SecurityEvent
from paced.core.security_log import COMMAND_LINE, Origin
from tests.core.test_accounts import CHEAP, MemoryUsers
from tests.core.test_personal_tokens import FakeStore
from tests.helpers import ORIGIN, MemoryLog

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("origin", "actor", "user_id", "expected"),
    [
        (ORIGIN, None, "user_1", "user_1"),
        (ORIGIN, "client123", "user_1", "client123"),
        (ORIGIN, None, None, "anonymous"),
        (COMMAND_LINE, None, "user_1", "operator"),
        (COMMAND_LINE, "client123", "user_1", "operator"),
    ],
    ids=[
        "by default the account's owner acted",
        "a client acted",
        "nobody known acted",
        "the command line is the operator",
        "the command line is the operator whoever is named",
    ],
)
async def test_the_actor(
    origin: Origin, actor: str | None, user_id: str | None, expected: str
) -> None:
    log = MemoryLog()
    await security_log.record(log, "sign_in", NOW, origin, user_id=user_id, actor=actor)
    (event,) = log.events
    assert (event.actor, event.user_id, event.created_at) == (expected, user_id, NOW)


async def test_the_origin_is_kept_within_the_columns_sizes() -> None:
    log = MemoryLog()
    origin = Origin(ip="2001:db8::" + "f" * 60, user_agent="A" * 1000)
    await security_log.record(log, "sign_in", NOW, origin, user_id="user_1", detail={"k": "v"})
    (event,) = log.events
    assert len(event.ip) == 45 and len(event.user_agent) == 300
    assert event.detail == {"k": "v"}


def test_every_event_has_a_title_in_plain_words() -> None:
    assert set(security_log.TITLES) == set(security_log.EVENTS)
    assert security_log.title("sign_in_failed") == "Failed sign-in"
    assert security_log.title("something_new") == "Something new"


class Events:
    def __init__(self, count: int) -> None:
        self.all = [
            SecurityEvent(n, "user_1", "sign_in", "user_1", "", "", {}, NOW + timedelta(seconds=n))
            for n in reversed(range(count))
        ]

    async def security_events_of(
        self, user_id: str, *, limit: int, offset: int = 0
    ) -> list[SecurityEvent]:
        return self.all[offset : offset + limit]


@pytest.mark.parametrize(
    ("count", "number", "shown", "newer", "older"),
    [
        (0, 1, 0, False, False),
        (50, 1, 50, False, False),
        (51, 1, 50, False, True),
        (51, 2, 1, True, False),
        (5, 0, 5, False, False),
    ],
    ids=[
        "no events",
        "exactly one page",
        "one more than a page",
        "the second page",
        "page 0 is the first",
    ],
)
async def test_pages_of_the_log(
    count: int, number: int, shown: int, newer: bool, older: bool
) -> None:
    page = await security_log.page_of(Events(count), "user_1", number)
    assert (len(page.events), page.has_newer, page.has_older) == (shown, newer, older)


async def test_a_failed_sign_in_is_the_same_work_whether_or_not_the_account_exists() -> None:
    store = MemoryUsers()
    account = await accounts.new_account(accounts.SignUp("a@example.com", "x" * 8), CHEAP)
    await accounts.sign_up(store, account, NOW, origin=ORIGIN)
    for email in ("a@example.com", "b@example.com"):
        credentials = await accounts.find_credentials(store, email)
        check = await accounts.check_password(credentials, email, "wrong!!!", CHEAP)
        await accounts.log_in(store, check, NOW, origin=ORIGIN)
    created, known, unknown = store.events
    assert created.event == "account_created"
    assert (known.event, known.user_id, known.actor) == (
        "sign_in_failed",
        created.user_id,
        "anonymous",
    )
    assert (unknown.event, unknown.user_id, unknown.detail) == (
        "sign_in_failed",
        None,
        {"email": "b@example.com"},
    )


async def test_revoking_a_token_twice_records_it_once() -> None:
    store = FakeStore()
    issued = await personal_tokens.create(
        store, "user_1", personal_tokens.NewToken(name="laptop"), NOW, origin=ORIGIN
    )
    for _ in range(2):
        await personal_tokens.revoke(store, issued.token.id, NOW, owner_id="user_1", origin=ORIGIN)
    assert store.event_names() == ["personal_token_created", "personal_token_revoked"]
    assert issued.secret not in repr(store.events)
    revoked = store.events[1]
    assert replace(revoked, detail={}) == SecurityEvent(
        0, "user_1", "personal_token_revoked", "user_1", ORIGIN.ip, ORIGIN.user_agent, {}, NOW
    )
