"""The sender against a real SMTP server (aiosmtpd) and the outbox folder: what arrives,
what a refusal does, what a message says and what it never says."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from paced.core import mail, notifications
from paced.core.policy import Policy
from paced.core.records import PersonalToken
from paced.core.security_log import Origin
from paced.mail.compose import Composer, default_sender
from paced.mail.sender import MailSender
from paced.mail.transport import Outbox, Smtp, Transport
from paced.storage.database import Database, open_database
from paced.storage.models import mail_queue
from tests.conftest import Clock
from tests.mail.smtp_server import Inbox, smtp_server
from tests.storage.test_grants import add_user

ORIGIN = Origin(ip="198.51.100.4", user_agent="Firefox on Linux")
BASE = "https://auth.paced.example"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


def sender(engine: Database, transport: Transport, clock: Clock) -> MailSender:
    return MailSender(
        engine, transport, Composer(base_url=BASE, sender=""), Policy(), clock, poll=0.05
    )


async def queue_reset_mail(engine: Database, clock: Clock) -> str:
    user_id = await add_user(engine, "ann@example.com")
    async with engine.unit_of_work() as store:
        await mail.queue(
            store, user_id, "password_reset", clock(), ORIGIN, {"link": "/password/reset/SeCrEt"}
        )
    return user_id


async def test_a_message_arrives_at_the_smtp_server_with_text_and_html(
    engine: Database, clock: Clock
) -> None:
    await queue_reset_mail(engine, clock)
    inbox = Inbox()
    with smtp_server(inbox) as url:
        assert await sender(engine, Smtp(url), clock).send_due() == 1
    (message,) = inbox.messages
    assert inbox.recipients == [["ann@example.com"]]
    assert message["From"] == "Paced Email <no-reply@auth.paced.example>"
    assert message["Subject"] == "Reset your password"
    assert message["Message-ID"].endswith("@auth.paced.example>")
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    for body in (text.get_content(), page.get_content()):
        assert f"{BASE}/password/reset/SeCrEt" in body
        assert "15 January 2026 at 12:00 UTC" in body  # when
        assert "198.51.100.4" in body and "Firefox on Linux" in body  # from where
        assert "If you did not ask for this" in body  # what to do if it was not you


async def test_a_refused_message_is_retried_and_arrives(engine: Database, clock: Clock) -> None:
    await queue_reset_mail(engine, clock)
    inbox = Inbox(refusals=1)
    with smtp_server(inbox) as url:
        outbox = sender(engine, Smtp(url), clock)
        assert await outbox.send_due() == 1
        assert inbox.messages == [] and inbox.refused == 1
        async with engine.reading() as store:
            (row,) = (await store.connection.execute(select(mail_queue))).all()
        assert row.attempts == 1 and row.sent_at is None
        assert "451" in row.last_error and "SeCrEt" not in row.last_error
        assert row.next_attempt_at == clock() + Policy().mail_retry_delays[0]
        assert await outbox.send_due() == 0  # not due yet
        clock.advance(seconds=30)
        assert await outbox.send_due() == 1
    assert len(inbox.messages) == 1
    async with engine.reading() as store:
        (row,) = (await store.connection.execute(select(mail_queue))).all()
    assert row.sent_at == clock() and row.attempts == 2 and "SeCrEt" not in row.detail


async def test_a_message_is_given_up_after_its_last_retry(engine: Database, clock: Clock) -> None:
    await queue_reset_mail(engine, clock)
    inbox = Inbox(refusals=100, refusal="554 5.7.1 Refused")
    with smtp_server(inbox) as url:
        outbox = sender(engine, Smtp(url), clock)
        for delay in (*Policy().mail_retry_delays, timedelta(0)):
            assert await outbox.send_due() == 1
            clock.advance(seconds=delay.total_seconds())
        clock.advance(days=1)
        assert await outbox.send_due() == 0
    assert inbox.refused == len(Policy().mail_retry_delays) + 1 and inbox.messages == []
    async with engine.reading() as store:
        (row,) = (await store.connection.execute(select(mail_queue))).all()
    assert row.next_attempt_at is None and row.sent_at is None and "554" in row.last_error


async def test_an_unreachable_server_is_retried_like_a_refusal(
    engine: Database, clock: Clock
) -> None:
    await queue_reset_mail(engine, clock)
    with smtp_server(Inbox()) as url:
        pass  # stopped: nobody listens on its port any more
    await sender(engine, Smtp(url), clock).send_due()
    async with engine.reading() as store:
        (row,) = (await store.connection.execute(select(mail_queue))).all()
    assert row.attempts == 1 and row.next_attempt_at is not None and row.last_error


async def test_the_sender_task_sends_when_woken(engine: Database, clock: Clock) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as url:
        task = MailSender(
            engine, Smtp(url), Composer(base_url=BASE, sender=""), Policy(), clock, poll=3600
        )
        task.start()
        try:
            await queue_reset_mail(engine, clock)
            task.wake()
            for _ in range(200):
                if inbox.messages:
                    break
                await asyncio.sleep(0.02)
        finally:
            await task.aclose()
    assert len(inbox.messages) == 1


class SwallowsCancellation:
    """A transport that, like `asyncio.wait_for` on Python 3.11 when the reply arrives
    with the cancellation, goes on as if it had not been cancelled."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        self.sending.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass


async def test_the_sender_task_stops_even_when_a_send_swallows_its_cancellation(
    engine: Database, clock: Clock
) -> None:
    transport = SwallowsCancellation()
    task = MailSender(
        engine, transport, Composer(base_url=BASE, sender=""), Policy(), clock, poll=3600
    )
    await queue_reset_mail(engine, clock)
    task.start()
    await asyncio.wait_for(transport.sending.wait(), timeout=10)
    closing = asyncio.ensure_future(task.aclose())
    done, _ = await asyncio.wait([closing], timeout=10)
    assert closing in done


def read_eml(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_without_smtp_each_message_is_an_eml_file_in_the_outbox(
    engine: Database, clock: Clock, tmp_path: Path
) -> None:
    user_id = await queue_reset_mail(engine, clock)
    token = PersonalToken("pat_1", user_id, "ci", ("read",), clock(), None, None, None)
    async with engine.unit_of_work() as store:
        await notifications.personal_token_created(store, token, "pt_secret_…x9Qa", clock(), ORIGIN)
    folder = tmp_path / "outbox"
    assert await sender(engine, Outbox(folder), clock).send_due() == 2
    files = sorted(folder.iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)  # no temporary left
    messages = {read_eml(f)["Subject"]: read_eml(f) for f in files}
    created = messages["A new personal access token was created"]
    body = created.get_body(("plain",))
    assert body is not None and "pt_secret_…x9Qa" in body.get_content()
    # The reset link is in its own message only.
    assert "SeCrEt" not in created.as_string()
    assert "SeCrEt" in messages["Reset your password"].as_string()


def test_the_default_sender_is_no_reply_at_the_base_urls_host() -> None:
    assert default_sender("http://127.0.0.1:8000") == "Paced Email <no-reply@127.0.0.1>"


@pytest.mark.parametrize("kind", mail.KINDS)
def test_every_kind_renders_text_and_html(kind: str, clock: Clock) -> None:
    queued = mail.QueuedMail(
        id=1,
        message_id="abc",
        recipient="ann@example.com",
        name="Ann <b>",
        kind=kind,
        created_at=clock(),
        ip="198.51.100.4",
        user_agent="Firefox",
        detail={
            "link": "/x/y",
            "name": "<script>",
            "hint": "pt_secret_…abcd",
            "scopes": "read",
            "expires_at": clock().isoformat(),
            "client_id": "c",
            "by_reset": True,
            "method": "an authenticator app",
            "enabled": True,
            "kind": "personal access token",
            "token_id": "pat_1",
        },
        attempts=0,
    )
    message = Composer(base_url=BASE, sender="Ops <ops@example.com>").compose(queued)
    assert message["From"] == "Ops <ops@example.com>"
    page = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert page is not None and text is not None
    assert "<script>" not in page.get_content() and "Ann &lt;b&gt;" in page.get_content()
    assert "15 January 2026 at 12:00 UTC" in text.get_content()
    assert "198.51.100.4" in text.get_content()
