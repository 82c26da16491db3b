"""A new person in a real browser: sign up, change their account, sign out, sign back in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def sign_up(page: Page, server: str, email: str = "ann@example.com") -> None:
    page.goto(f"{server}/signup")
    page.get_by_label("Name").fill("Ann")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server}/settings/developer")


def test_sign_up_with_the_keyboard_and_errors_beside_their_fields(page: Page, server: str) -> None:
    page.goto(f"{server}/signup")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Ann")
    page.keyboard.press("Tab")
    page.keyboard.type("not-an-email")
    page.keyboard.press("Tab")
    page.keyboard.type("short")
    page.keyboard.press("Enter")
    expect(page.locator("#email-error")).to_have_text(
        "Enter an email address like name@example.com."
    )
    expect(page.locator("#password-error")).to_have_text("Use at least 8 characters.")
    expect(page.get_by_label("Email")).to_be_focused()  # the first field in error

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(f"{server}/settings/developer")
    expect(page.get_by_role("link", name="Developer settings")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


def test_account_settings_and_signing_out(page: Page, server: str) -> None:
    sign_up(page, server)
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Name").fill("Ann Example")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text("Your profile is saved.")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{server}/login")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{server}/settings/developer")


def test_pages_fit_a_phone_screen(page: Page, server: str) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    sign_up(page, server)
    page.goto(f"{server}/settings/account")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at phone width ({width}px)"
