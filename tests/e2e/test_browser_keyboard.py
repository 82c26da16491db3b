"""A keyboard-only person, Tab and Enter and nothing else: signs up, creates a token and
copies it, revokes it through its confirmation, and approves an app on the consent
screen. Every stop shows where the focus is."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.journeys import (
    PASSWORD,
    authorize_url,
    callback_server,
    exchange_code,
    me,
    register_app,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def tab_to(page: Page, target: Locator, limit: int = 40) -> list[str]:
    """Press Tab until `target` has the focus; returns the text of each stop on the way."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("(document.activeElement.innerText || '').trim()"))
        if target.evaluate("element => element === document.activeElement"):
            outline = target.evaluate("element => getComputedStyle(element).outlineStyle")
            assert outline != "none", f"the focus on {stops[-1]!r} cannot be seen"
            return stops
    raise AssertionError(f"Tab never reaches {target}; it stops at {stops}")


def enter(page: Page) -> None:
    """Enter on a link or a submit button, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_sign_up_create_and_revoke_a_token_and_authorize_an_app_by_keyboard(
    page: Page, server: str
) -> None:
    app = register_app(server)

    page.goto(f"{server}/signup")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Kim")
    page.keyboard.press("Tab")
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    enter(page)
    expect(page).to_have_url(f"{server}/settings/developer")

    page.keyboard.press("Tab")  # the first stop: a link past the header
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    tab_to(page, page.get_by_role("link", name="Create a token"))
    enter(page)
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("ci")
    enter(page)
    expect(page.get_by_text("You will not be able to see it again.")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Copy"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    token = page.evaluate("navigator.clipboard.readText()")
    assert me(server, token).status_code == 200

    tab_to(page, page.get_by_role("link", name="Back to Developer settings"))
    enter(page)
    tab_to(page, page.get_by_role("link", name="Revoke ci"))
    enter(page)
    expect(page.get_by_role("heading", name="Revoke token “ci”?")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Revoke token"))
    enter(page)
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    assert me(server, token).status_code == 401

    with callback_server() as client:
        page.goto(authorize_url(server, app, client.redirect_uri, state="kb"))
        expect(page.get_by_role("heading", name="Authorize Mailmerge")).to_be_visible()
        assert page.evaluate("document.activeElement === document.body"), "nothing is focused"
        stops = tab_to(page, page.get_by_role("button", name="Authorize"))
        assert stops[-2:] == ["Deny", "Authorize"]
        enter(page)
        received = client.wait()
    assert received["state"] == "kb"
    tokens = exchange_code(server, app, received["code"], client.redirect_uri)
    assert me(server, tokens["access_token"]).json()["email"] == "kim@example.com"
