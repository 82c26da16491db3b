"""The device authorization grant end to end (RFC 8628): a command-line tool
(tests/e2e/device_cli.py, httpx) polls a real `paced serve` while a person answers at
/device in Chromium; then the tool calls the API with its token."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import PASSWORD, register_device_app, signed_up_client
from tests.e2e.server import paced_serve

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CLI = Path(__file__).with_name("device_cli.py")


@contextmanager
def device_cli(server: str, client_id: str, *flags: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, str(CLI), server, client_id, "read write", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def first_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    shown: dict[str, Any] = json.loads(process.stdout.readline())
    return shown


def outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=90)
    assert out.strip(), err
    last: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return last


def answer_in_browser(page: Page, server: str, link: str, user_code: str, button: str) -> None:
    """A person with an account opens the link the tool shows, signs in, checks the code,
    and answers."""
    signed_up_client(server, "Ann", "ann@example.com").close()
    page.goto(link)
    expect(page).to_have_url(re.compile(re.escape(f"{server}/login?next=")))
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # Back at /device with the code filled in: the person confirms it.
    expect(page.get_by_role("heading", name="Connect a device")).to_be_visible()
    expect(page.get_by_label("Code")).to_have_value(user_code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Authorize Paced CLI")).to_be_visible()
    consent = page.locator("main")
    expect(consent).to_contain_text(user_code)
    expect(consent).to_contain_text("ann@example.com")
    expect(consent.get_by_role("button")).to_have_text(["Deny", "Authorize"])
    page.get_by_role("button", name=button).click()


def test_a_cli_gets_a_token_once_a_person_approves_in_the_browser(page: Page, server: str) -> None:
    client_id = register_device_app(server)
    with device_cli(server, client_id, "--eager") as cli:
        shown = first_line(cli)
        assert shown["verification_uri_complete"].startswith(f"{server}/device?user_code=")
        answer_in_browser(
            page, server, shown["verification_uri_complete"], shown["user_code"], "Authorize"
        )
        expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
        expect(page.locator("main")).to_contain_text("You can return to your device")
        result = outcome(cli)
    # An eager first poll is pending, the next too soon: slow_down; then the token.
    assert result["seen"][:2] == ["authorization_pending", "slow_down"]
    assert result["me_status"] == 200
    assert result["me"]["email"] == "ann@example.com"

    page.goto(f"{server}/settings/authorized-applications")
    expect(page.locator("main")).to_contain_text("Paced CLI")


def test_a_denial_in_the_browser_ends_the_cli_with_access_denied(page: Page, server: str) -> None:
    client_id = register_device_app(server)
    with device_cli(server, client_id) as cli:
        shown = first_line(cli)
        answer_in_browser(
            page, server, shown["verification_uri_complete"], shown["user_code"], "Deny"
        )
        expect(page.get_by_role("heading", name="Access denied")).to_be_visible()
        result = outcome(cli)
    assert result["error"] == "access_denied"


def test_a_code_nobody_answers_expires(database_url: str, tmp_path: Path) -> None:
    with paced_serve(database_url, tmp_path, env={"PACED_DEVICE_CODE_TTL": "3"}) as server:
        client_id = register_device_app(server)
        with device_cli(server, client_id) as cli:
            first_line(cli)
            result = outcome(cli)
    assert result == {"seen": ["expired_token"], "error": "expired_token"}
