"""Two-factor authentication and the sessions list in real Chromium, on `localhost`
(WebAuthn refuses an IP address as the relying party's id): an authenticator app whose
codes pyotp computes, recovery codes, and a passkey made by Chromium's virtual
authenticator (the DevTools protocol's WebAuthn domain, through a CDP session)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.e2e.journeys import PASSWORD, sign_up_in_browser
from tests.e2e.server import paced_serve

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

EMAIL = "ann@example.com"
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with paced_serve(database_url, tmp_path, host_name="localhost") as base:
        yield base


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with user verification, as a phone or laptop has."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def sign_out(page: Page, server: str) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{server}/login")


def password_step(page: Page, server: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{server}/login/two-factor")


def next_code(secret: str) -> str:
    """The code of the next time step: the current one may have been used already, and one
    step ahead is accepted (RFC 6238 §5.2)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_authenticator_app_recovery_codes_and_a_passkey(page: Page, server: str) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions
    sign_up_in_browser(page, server, "Ann", EMAIL)
    page.get_by_role("link", name="Security", exact=True).click()
    expect(page.get_by_text("Off.")).to_be_visible()

    # Set up the authenticator app: a QR code drawn by the server, the key as text.
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page).to_have_url(f"{server}/settings/security/authenticator")
    qr = page.get_by_role("img", name="QR code of your Paced Email authenticator key")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 100
    secret = page.get_by_label("Key for your authenticator app").input_value().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000" if next_code(secret) != "000000" else "1")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#code-error")).to_contain_text("That code is not right")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(f"{server}/settings/security/recovery-codes")
    codes = page.get_by_label("Recovery codes").input_value().split()
    assert len(codes) == 10
    page.get_by_role("link", name="Back to Security").click()
    expect(page.get_by_text("On.", exact=True)).to_be_visible()

    # Password, then a code from the app.
    sign_out(page, server)
    password_step(page, server)
    page.get_by_label("Authentication code").fill(next_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{server}/settings/developer")

    # Password, then a recovery code; the same code a second time is refused.
    sign_out(page, server)
    password_step(page, server)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{server}/settings/developer")
    sign_out(page, server)
    password_step(page, server)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("That code is not right")
    expect(page.get_by_label("Authentication code")).to_be_focused()
    page.get_by_label("Authentication code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{server}/settings/developer")

    # A passkey, made by the virtual authenticator.
    cdp, authenticator = virtual_authenticator(page)
    page.goto(f"{server}/settings/security")
    expect(page.get_by_text("8 of 10 left")).to_be_visible()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{server}/settings/security/passkeys/new")
    page.get_by_label("Name of this passkey").fill("Work laptop")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create the passkey").click()
    expect(page).to_have_url(f"{server}/settings/security")
    expect(page.get_by_role("status")).to_have_text("Your passkey is added.")
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    credentials: list[dict[str, Any]] = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator}
    )["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]

    # Sign in with the passkey alone: no email, no password.
    sign_out(page, server)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{server}/login/passkey?next=/settings/developer")
    page.get_by_role("button", name="Use my passkey").click()
    expect(page).to_have_url(f"{server}/settings/developer")
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert after["credentials"][0]["signCount"] > credentials[0]["signCount"]

    # The passkey as the second step after the password.
    sign_out(page, server)
    password_step(page, server)
    page.get_by_role("button", name="Use a passkey").click()
    page.get_by_role("button", name="Use my passkey").click()
    expect(page).to_have_url(f"{server}/settings/developer")

    # Turning it off needs the password.
    page.goto(f"{server}/settings/security")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Turn off two-factor authentication").click()
    expect(page.locator("#password-error")).to_have_text("That is not your password.")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn off two-factor authentication").click()
    expect(page.get_by_role("status")).to_have_text("Two-factor authentication is off.")
    expect(page.get_by_text("No passkeys yet")).to_be_visible()

    page.goto(f"{server}/settings/security-log")
    for title in (
        "Two-factor authentication turned on",
        "Recovery code used",
        "Passkey added",
        "Two-factor authentication turned off",
    ):
        expect(page.get_by_text(title, exact=True).first).to_be_visible()
    expect(page.get_by_text("with a passkey").first).to_be_visible()

    sign_out(page, server)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{server}/settings/developer")  # one step again


def test_the_sessions_list_shows_two_browsers_and_signs_one_out(
    browser: Browser, server: str
) -> None:
    chrome = browser.new_context()
    firefox = browser.new_context(user_agent=FIREFOX_ON_WINDOWS)
    try:
        mine = chrome.new_page()
        sign_up_in_browser(mine, server, "Ann", EMAIL)
        other = firefox.new_page()
        other.goto(f"{server}/login")
        other.get_by_label("Email").fill(EMAIL)
        other.get_by_label("Password").fill(PASSWORD)
        other.get_by_role("button", name="Sign in", exact=True).click()
        expect(other).to_have_url(f"{server}/settings/developer")

        mine.goto(f"{server}/settings/security")
        rows = mine.locator("table.sessions tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("This browser")
        expect(rows.nth(0)).to_contain_text(" on Linux")
        expect(rows.nth(1)).to_contain_text("Firefox 133 on Windows")
        expect(rows.nth(1)).to_contain_text("127.0.0.1")
        mine.get_by_role("button", name="Sign out Firefox 133 on Windows").click()
        expect(mine.get_by_role("status")).to_have_text("That session is signed out.")
        expect(rows).to_have_count(1)

        other.reload()
        expect(other).to_have_url(f"{server}/login?next=/settings/developer")
    finally:
        chrome.close()
        firefox.close()


def test_without_javascript_on_a_phone_the_authenticator_app_works(
    browser: Browser, server: str
) -> None:
    """Passkeys aside, every step works with JavaScript off, fits a 375-pixel screen,
    and is reached with the keyboard."""
    phone = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = phone.new_page()
        sign_up_in_browser(page, server, "Ann", EMAIL)
        page.goto(f"{server}/settings/security")
        expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
        expect(page.get_by_text("Adding a passkey needs a browser with JavaScript")).to_be_visible()
        page.get_by_role("button", name="Set up an authenticator app").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server}/settings/security/authenticator")
        expect(page.get_by_label("Code from the app")).to_be_focused()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        secret = page.get_by_label("Key for your authenticator app").input_value()
        page.keyboard.type(pyotp.TOTP(secret.replace(" ", "")).now())
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server}/settings/security/recovery-codes")
        for path in ("/settings/security/recovery-codes", "/settings/security"):
            page.goto(f"{server}{path}")
            width: int = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width - 375} px too wide"

        page.get_by_role("button", name="Sign out", exact=True).click()
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server}/login/two-factor")
        expect(page.get_by_label("Authentication code")).to_be_focused()
        expect(page.get_by_role("button", name="Sign in with a passkey")).to_have_count(0)
        page.keyboard.type(next_code(secret.replace(" ", "")))
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server}/settings/developer")
    finally:
        phone.close()
