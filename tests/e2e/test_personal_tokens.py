"""The issue's story on a real server: a new person signs up, creates a token under
Developer settings, copies it, and `curl` reads their account with it; revoked, the token
opens nothing from the very next call."""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def sign_up(page: Page, server: str) -> None:
    page.goto(f"{server}/signup")
    page.get_by_label("Name").fill("Ann")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server}/settings/developer")


def curl(server: str, *headers: str) -> tuple[int, dict[str, str], dict[str, str]]:
    """GET /api/v1/me with curl: status, headers (lowercase names), JSON body."""
    args = ["curl", "-sS", "-i", "--max-time", "10"]
    for header in headers:
        args += ["-H", header]
    output = subprocess.run(
        [*args, f"{server}/api/v1/me"], capture_output=True, text=True, check=True, timeout=20
    ).stdout
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    status_line, *lines = head.splitlines()
    fields = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, json.loads(body)


def test_sign_up_create_a_token_copy_it_and_call_the_api(page: Page, server: str) -> None:
    sign_up(page, server)
    expect(page.get_by_text("You have no personal access tokens yet.")).to_be_visible()
    page.get_by_role("link", name="Create a token").click()
    expect(page.get_by_role("heading", name="Create a token")).to_be_visible()
    expect(page.get_by_label("Expiration", exact=True)).to_have_value("30")
    page.get_by_label("Name").fill("my laptop")
    page.get_by_role("button", name="Create a token").click()

    expect(page).to_have_url(f"{server}/settings/developer/tokens/created")
    expect(page.get_by_text("You will not be able to see it again.")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    token = page.evaluate("navigator.clipboard.readText()")
    assert token.startswith("pt_secret_") and len(token) == 46
    assert page.get_by_label("Token “my laptop”").input_value() == token

    status, headers, body = curl(server, f"Authorization: Bearer {token}")
    assert status == 200
    assert body["email"] == "ann@example.com" and body["name"] == "Ann"
    assert headers["x-oauth-scopes"] == "read, write"
    assert headers["x-accepted-oauth-scopes"] == "read"

    page.reload()
    expect(page.get_by_role("heading", name="This token is no longer shown")).to_be_visible()
    assert token not in page.content()

    page.goto(f"{server}/settings/developer")
    row = page.get_by_role("row").filter(has_text="my laptop")
    expect(row).to_contain_text("active")
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("row").filter(has_text="my laptop")).to_contain_text("revoked")

    status, headers, body = curl(server, f"Authorization: Bearer {token}")
    assert status == 401
    assert body == {"error": "invalid_token", "error_description": "The access token was revoked."}
    metadata = f"{server}/.well-known/oauth-protected-resource"
    assert headers["www-authenticate"] == (
        f'Bearer realm="Paced Email", resource_metadata="{metadata}", error="invalid_token", '
        'error_description="The access token was revoked."'
    )
    status, headers, body = curl(server)
    assert status == 401 and headers["www-authenticate"] == (
        f'Bearer realm="Paced Email", resource_metadata="{metadata}"'
    )
