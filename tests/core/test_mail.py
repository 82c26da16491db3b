"""The mail rules: what a queued message holds, and when a failed one is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paced.core import mail, notifications
from paced.core.policy import Policy
from paced.core.records import PersonalToken
from paced.core.security_log import Origin
from tests.helpers import ORIGIN, MemoryMail

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_a_failed_message_is_tried_at_least_three_times_over_ten_minutes() -> None:
    policy = Policy()
    when, attempts, times = NOW, 0, []
    while True:
        attempts += 1
        retry = mail.retry_at(attempts, when, policy)
        if retry is None:
            break
        times.append(retry)
        when = retry
    assert len(times) >= 3
    assert times[-1] - NOW >= timedelta(minutes=10)
    assert times == sorted(times)


def test_an_error_is_kept_short_and_named() -> None:
    text = mail.error_text(ConnectionRefusedError("x" * 1000))
    assert text.startswith("ConnectionRefusedError: ") and len(text) == mail.MAX_ERROR


async def test_a_new_token_is_told_by_its_hint_never_its_secret() -> None:
    store = MemoryMail()
    token = PersonalToken("pat_1", "user_1", "ci", ("read",), NOW, None, None, None)
    await notifications.personal_token_created(store, token, "pt_secret_…x9Qa", NOW, ORIGIN)
    (queued,) = store.mails()
    assert queued.kind == "personal_token_created" and queued.user_id == "user_1"
    assert queued.detail == {
        "name": "ci",
        "hint": "pt_secret_…x9Qa",
        "scopes": "read",
        "expires_at": None,
    }
    assert queued.origin == ORIGIN


async def test_each_event_has_its_function_and_its_kind() -> None:
    store = MemoryMail()
    token = PersonalToken("pat_1", "u", "ci", ("read",), NOW, NOW + timedelta(days=3), None, None)
    await notifications.app_authorized(
        store, "u", app_name="Zapier", client_id="c", scopes=("read",), now=NOW, origin=ORIGIN
    )
    await notifications.password_changed(store, "u", NOW, ORIGIN)
    await notifications.two_factor_changed(
        store, "u", NOW, ORIGIN, method="an authenticator app", enabled=True
    )
    await notifications.credential_leaked(
        store, "u", NOW, ORIGIN, kind="personal access token", hint="pt_secret_…abcd", name="ci"
    )
    await notifications.token_expiring(store, token, NOW)
    assert [m.kind for m in store.mails()] == [
        "app_authorized",
        "password_changed",
        "two_factor_changed",
        "credential_leaked",
        "token_expiring",
    ]
    assert set(mail.KINDS) >= {m.kind for m in store.mails()}


async def test_the_origin_is_trimmed_to_what_storage_keeps() -> None:
    store = MemoryMail()
    await mail.queue(store, "u", "password_changed", NOW, Origin("1" * 100, "a" * 1000))
    (queued,) = store.mails()
    assert len(queued.origin.ip) == 45 and len(queued.origin.user_agent) == 300
