"""The device flow's pages (/device) on a phone with JavaScript off, driven by the
keyboard alone: a person types the code their command-line tool shows and approves it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import PASSWORD, register_device_app, signed_up_client

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WIDTH = 375
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {
        "viewport": {"width": WIDTH, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "java_script_enabled": False,
    }


def fits(page: Page) -> None:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways by {width - WIDTH} px"


def test_a_code_typed_and_approved_by_keyboard_on_a_phone_without_javascript(
    page: Page, server: str
) -> None:
    client_id = register_device_app(server)
    codes = httpx.post(f"{server}/oauth/device_authorization", data={"client_id": client_id})
    user_code = codes.json()["user_code"]
    signed_up_client(server, "Ann", "ann@example.com").close()

    page.goto(f"{server}/device")
    expect(page).to_have_url(f"{server}/login?next=/device")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("ann@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Connect a device")).to_be_visible()
    fits(page)
    code = page.get_by_label("Code")
    expect(code).to_be_focused()
    page.keyboard.type(user_code.lower().replace("-", " "))  # as people type it
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Authorize Paced CLI")).to_be_visible()
    fits(page)
    authorize = page.get_by_role("button", name="Authorize")
    for _ in range(40):  # Tab through the screen to the button
        page.keyboard.press("Tab")
        if authorize.evaluate("button => button === document.activeElement"):
            break
    expect(authorize).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
    fits(page)
    tokens = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": GRANT_TYPE,
            "device_code": codes.json()["device_code"],
            "client_id": client_id,
        },
    )
    assert tokens.status_code == 200, tokens.text
