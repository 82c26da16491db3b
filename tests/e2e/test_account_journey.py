"""A person's whole account, end to end, in real Chromium on a real `paced serve`: sign
up, verify the address from the mail in the outbox, turn on an authenticator app and a
passkey, sign out, forget the password, reset it from the mail, and sign in again with
the passkey alone (docs/accounts.md, docs/two-factor.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import PASSWORD, sign_up_in_browser
from tests.e2e.server import paced_serve
from tests.e2e.test_browser_two_factor import EMAIL, sign_out, virtual_authenticator
from tests.e2e.test_mail import NEW_PASSWORD, link_in, outbox_messages, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    # localhost, not an address: WebAuthn refuses an IP address as the relying party.
    with paced_serve(database_url, tmp_path, host_name="localhost") as base:
        yield base


def test_sign_up_verify_two_factor_forget_reset_and_sign_in_with_a_passkey(
    page: Page, server: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "paced-outbox"  # the default: no mail server needed
    page.on("dialog", lambda dialog: dialog.accept())

    # Sign up; the pages say the address is not verified until its link is followed.
    sign_up_in_browser(page, server, "Ann", EMAIL)
    expect(page.get_by_text("is not verified yet")).to_be_visible()
    wait_for(lambda: outbox_messages(outbox, "Confirm your email address"), "verification")
    (verification,) = outbox_messages(outbox, "Confirm your email address")
    page.goto(link_in(verification, server))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified")
    expect(page.get_by_text("is not verified yet")).to_have_count(0)

    # An authenticator app, then a passkey.
    page.get_by_role("link", name="Security", exact=True).click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    secret = page.get_by_label("Key for your authenticator app").input_value().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(f"{server}/settings/security/recovery-codes")
    cdp, authenticator = virtual_authenticator(page)
    page.goto(f"{server}/settings/security")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_label("Name of this passkey").fill("Phone")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_role("status")).to_have_text("Your passkey is added.")
    sign_out(page, server)

    # Forgot the password: a reset link by mail, one new password, every session ended.
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    wait_for(lambda: outbox_messages(outbox, "Reset your password"), "reset message")
    (reset,) = outbox_messages(outbox, "Reset your password")
    page.goto(link_in(reset, server))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("New password").press("Enter")
    expect(page).to_have_url(f"{server}/login")
    expect(page.get_by_role("status")).to_contain_text("Your new password is set")

    # Back in with the passkey alone: no email, no password.
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.get_by_role("button", name="Use my passkey").click()
    expect(page).to_have_url(f"{server}/settings/developer")
    assert (
        cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"][0][
            "signCount"
        ]
        > 0
    )

    # Every step is in the security log, and each change was told by mail.
    page.goto(f"{server}/settings/security-log")
    for title in (
        "Email address verified",
        "Two-factor authentication turned on",
        "Passkey added",
        "Password reset from a mailed link",
    ):
        expect(page.get_by_text(title, exact=True).first).to_be_visible()
    for subject in ("Two-factor authentication changed", "Your password was changed"):
        wait_for(lambda subject=subject: outbox_messages(outbox, subject), subject)
