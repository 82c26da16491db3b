"""The main pages on a 375-pixel-wide phone: nothing scrolls sideways, every page is
usable with a thumb (a long client ID or token wraps or scrolls inside its own box)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import authorize_url, callback_server, register_app, sign_up_in_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WIDTH = 375


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"viewport": {"width": WIDTH, "height": 740}, "is_mobile": True, "has_touch": True}


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width - WIDTH


def test_the_main_pages_fit_a_phone_screen(page: Page, server: str) -> None:
    other = register_app(server)
    sign_up_in_browser(page, server, "Ann", "ann@example.com")
    wide: dict[str, int] = {}

    def check(heading: str) -> None:
        """Once the page headed `heading` is shown, note how far it scrolls sideways."""
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        if overflow(page) > 0:
            wide[heading] = overflow(page)

    check("Developer settings")
    page.get_by_role("link", name="Create a token").click()
    check("Create a token")
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_text("Give the token a name")).to_be_visible()
    check("Create a token")  # with an error beside its name
    page.get_by_label("Name").fill("a token with a rather long name for a small screen")
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_text("You will not be able to see it again.")).to_be_visible()
    check("Your new personal access token")

    page.goto(f"{server}/settings/developer/applications/new")
    check("Register an application")
    page.get_by_label("Application name").fill("Ann's exporter")
    page.get_by_label("Redirect URIs").fill(
        "https://exporter.example/a/rather/long/oauth/callback/path?with=query"
    )
    page.get_by_role("button", name="Register application").click()
    expect(page.get_by_label("New client secret")).to_be_visible()
    check("Ann's exporter Confidential")
    page.get_by_role("link", name="Delete application…").click()
    check("Delete Ann's exporter?")

    page.goto(f"{server}/settings/developer")
    check("Developer settings")
    page.get_by_role("link", name="Revoke a token with a rather long name").click()
    check("Revoke token “a token with a rather long name for a small screen”?")

    with callback_server() as client:
        page.goto(authorize_url(server, other, client.redirect_uri, scope="read write"))
        expect(page.get_by_role("button", name="Authorize")).to_be_visible()
        check("Authorize Mailmerge")
        page.get_by_role("button", name="Authorize").click()
        client.wait()
    page.goto(f"{server}/settings/authorized-applications")
    expect(page.get_by_role("row").filter(has_text="Mailmerge")).to_be_visible()
    check("Authorized applications")
    page.get_by_role("link", name="Revoke Mailmerge").click()
    check("Revoke access for Mailmerge?")
    page.goto(f"{server}/settings/account")
    check("Account")

    assert not wide, f"these pages scroll sideways at {WIDTH}px (by so many pixels): {wide}"
