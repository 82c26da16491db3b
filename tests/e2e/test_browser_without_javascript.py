"""The pages with JavaScript turned off: the copy buttons are an enhancement, everything
else (a token shown once, a revocation confirmed on its own page, the consent screen) is
plain HTML forms."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import (
    authorize_url,
    callback_server,
    me,
    register_app,
    sign_up_in_browser,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"java_script_enabled": False}


def test_create_see_and_revoke_a_token_and_authorize_without_javascript(
    page: Page, server: str
) -> None:
    app = register_app(server)
    sign_up_in_browser(page, server, "Ann", "ann@example.com")
    page.get_by_role("link", name="Create a token").click()
    page.get_by_label("Name").fill("cron job")
    page.get_by_label("read: Read your account data").uncheck()
    page.get_by_role("button", name="Create a token").click()

    field = page.get_by_label("Token “cron job”")
    token = field.input_value()
    assert token.startswith("pt_secret_")
    # paced.js did not run: the copy button it would reveal stays hidden.
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()
    expect(page.locator("pre")).to_contain_text(f"Authorization: Bearer {token}")
    answer = me(server, token)
    assert answer.status_code == 403  # a write-only token cannot read
    assert answer.json()["error"] == "insufficient_scope"

    page.get_by_role("link", name="Back to Developer settings").click()
    page.get_by_role("link", name="Revoke cron job").click()
    expect(page.get_by_role("heading", name="Revoke token “cron job”?")).to_be_visible()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("row").filter(has_text="cron job")).to_contain_text("revoked")
    assert me(server, token).status_code == 401

    with callback_server() as client:
        page.goto(authorize_url(server, app, client.redirect_uri, state="no-js"))
        page.get_by_role("button", name="Authorize").click()
        received = client.wait()
    assert received["state"] == "no-js" and "code" in received
