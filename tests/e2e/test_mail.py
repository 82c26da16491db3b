"""Mail from a real `paced serve`: into a real SMTP server (aiosmtpd), and by default into
the outbox folder, which a real browser reads a reset link from."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import insert, select

from paced.storage.database import open_database
from paced.storage.models import mail_queue, users
from tests.databases import run_sync
from tests.e2e.journeys import sign_up_in_browser, signed_up_client
from tests.e2e.server import paced_serve
from tests.helpers import begin
from tests.mail.smtp_server import Inbox, smtp_server

pytestmark = [pytest.mark.e2e]

NEW_PASSWORD = "a new and better one"


def wait_for(found: object, what: str) -> None:
    """Poll `found()` (a callable) until it is true; the sender works in the background."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if found():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"no {what} after 20 seconds")


def read_eml(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def outbox_messages(folder: Path, subject: str) -> list[EmailMessage]:
    if not folder.exists():
        return []
    found = [read_eml(path) for path in sorted(folder.glob("*.eml"))]
    return [message for message in found if message["Subject"] == subject]


def link_in(message: EmailMessage, server: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(re.escape(server) + r"/[\w/-]+", body.get_content())
    assert match, body.get_content()
    return match.group(0)


@pytest.mark.browser
def test_forgot_mail_reset_and_sign_in_in_a_browser(
    page: Page, server: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "paced-outbox"  # the default folder, beside the server's cwd
    sign_up_in_browser(page, server, "Ann", "ann@example.com")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{server}/login")

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("ann@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    wait_for(lambda: outbox_messages(outbox, "Reset your password"), "reset message")
    (message,) = outbox_messages(outbox, "Reset your password")
    assert message["To"] == "Ann <ann@example.com>"
    assert message.get_body(("html",)) is not None
    link = link_in(message, server)
    assert re.fullmatch(re.escape(server) + r"/password/reset/[\w-]{43}", link)

    page.goto(link)
    expect(page.get_by_label("New password")).to_be_focused()
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/login")
    expect(page.get_by_role("status")).to_contain_text("Your new password is set")

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{server}/settings/developer")

    page.goto(link)  # once only
    expect(page.get_by_role("alert")).to_contain_text("This link cannot be used")
    wait_for(lambda: outbox_messages(outbox, "Your password was changed"), "notice")
    # The link's token is in its message only: not in the server's log, nor in the notice.
    token = link.rsplit("/", 1)[1]
    (log,) = tmp_path.glob("serve-*.log")
    assert "/password/reset/{token}" in log.read_text() and token not in log.read_text()
    (notice,) = outbox_messages(outbox, "Your password was changed")
    assert token not in notice.as_string()


def test_sign_up_mail_arrives_over_smtp_and_its_link_verifies(
    database_url: str, tmp_path: Path
) -> None:
    inbox = Inbox()
    with (
        smtp_server(inbox) as url,
        paced_serve(database_url, tmp_path, env={"PACED_SMTP_URL": url}) as server,
    ):
        http = signed_up_client(server, "Ann", "ann@example.com")
        wait_for(lambda: inbox.messages, "message over SMTP")
        (message,) = inbox.messages
        assert message["Subject"] == "Confirm your email address"
        assert inbox.recipients == [["ann@example.com"]]
        link = link_in(message, server)
        shown = http.get(link)
        assert shown.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
        assert token
        verified = http.post(link, data={"csrf_token": token.group(1)})
        assert verified.status_code == 303
        assert "not verified yet" not in http.get("/settings/account").text
        http.close()
    assert not (tmp_path / "paced-outbox").exists()  # SMTP set: no file written


def test_a_message_queued_before_a_restart_is_sent_after_it(
    database_url: str, tmp_path: Path
) -> None:
    """What a process that died left in the queue goes out when a server starts."""
    with paced_serve(database_url, tmp_path) as server:
        signed_up_client(server, "Ann", "ann@example.com").close()
        wait_for(
            lambda: outbox_messages(tmp_path / "paced-outbox", "Confirm your email address"),
            "verify",
        )

    async def leave_a_message() -> None:
        engine = open_database(database_url)
        try:
            async with begin(engine) as connection:
                user_id = (await connection.execute(select(users.c.id))).scalar_one()
                now = datetime.now(UTC)
                await connection.execute(
                    insert(mail_queue).values(
                        message_id="left-by-a-dead-process",
                        user_id=user_id,
                        recipient="ann@example.com",
                        kind="password_changed",
                        ip="203.0.113.9",
                        user_agent="curl",
                        detail=json.dumps({"by_reset": False}),
                        created_at=now,
                        next_attempt_at=now,
                        attempts=0,
                        last_error="",
                    )
                )
        finally:
            await engine.close()

    run_sync(leave_a_message())
    inbox = Inbox()
    with (
        smtp_server(inbox) as url,
        paced_serve(database_url, tmp_path, env={"PACED_SMTP_URL": url}),
    ):
        wait_for(lambda: inbox.messages, "the message left in the queue")
    (message,) = inbox.messages
    assert message["Message-ID"] == "<left-by-a-dead-process@127.0.0.1>"
    assert message["Subject"] == "Your password was changed"


@pytest.mark.browser
def test_the_reset_pages_work_on_a_phone_without_javascript(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    signed_up_client(server, "Ann", "ann@example.com").close()
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, java_script_enabled=False
    )
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    wide: dict[str, int] = {}

    def check(heading: str) -> None:
        expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
        width: int = phone.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide[heading] = width

    try:
        phone.goto(f"{server}/login")
        phone.get_by_role("link", name="Forgot your password?").click()
        check("Reset your password")
        phone.get_by_role("button", name="Send the link").click()
        expect(phone.locator("#email-error")).to_be_visible()  # an empty address, beside it
        phone.get_by_label("Email").fill("ann@example.com")
        phone.get_by_role("button", name="Send the link").click()
        check("Check your email")
        outbox = tmp_path / "paced-outbox"
        wait_for(lambda: outbox_messages(outbox, "Reset your password"), "reset message")
        phone.goto(link_in(outbox_messages(outbox, "Reset your password")[0], server))
        check("Choose a new password")
        phone.get_by_label("New password").fill(NEW_PASSWORD)
        phone.get_by_role("button", name="Set the new password").click()
        expect(phone).to_have_url(f"{server}/login")
        phone.get_by_label("Email").fill("ann@example.com")
        phone.get_by_label("Password").fill(NEW_PASSWORD)
        phone.get_by_role("button", name="Sign in", exact=True).click()
        expect(phone).to_have_url(f"{server}/settings/developer")
        # Following a mailed link proved the address: no notice any more.
        expect(phone.get_by_text("is not verified yet")).to_have_count(0)
    finally:
        context.close()
    assert wide == {}
