"""The README's screenshots, made by the browser: Developer settings (a token and an app
listed) and the consent screen.

    PACED_UPDATE_SCREENSHOTS=1 ./scripts/test tests/e2e/test_screenshots.py -k sqlite

writes them to docs/screenshots/; without the variable they are rendered to a temporary
folder and checked, so that a test run never changes the tree."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import authorize_url, register_app, sign_up_in_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZE = (1200, 800)


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"viewport": {"width": SIZE[0], "height": SIZE[1]}, "device_scale_factor": 1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if os.environ.get("PACED_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its IHDR chunk)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_developer_settings_and_the_consent_screen(page: Page, server: str, folder: Path) -> None:
    sign_up_in_browser(page, server, "Ann Example", "ann@example.com")
    page.get_by_role("link", name="Create a token").click()
    page.get_by_label("Name").fill("Backup script on my laptop")
    page.get_by_role("button", name="Create a token").click()
    page.goto(f"{server}/settings/developer/applications/new")
    page.get_by_label("Application name").fill("Newsletter scheduler")
    page.get_by_label("Redirect URIs").fill("https://scheduler.example/oauth/callback")
    page.get_by_role("button", name="Register application").click()
    page.goto(f"{server}/settings/developer")
    expect(page.get_by_role("row").filter(has_text="Backup script")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Newsletter scheduler")).to_be_visible()
    page.screenshot(path=str(folder / "developer-settings.png"))

    callback = "https://mailmerge.example/oauth/callback"
    app = register_app(server, redirect_uris=callback)
    page.goto(authorize_url(server, app, callback, scope="read write", state="s"))
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    page.screenshot(path=str(folder / "consent.png"))

    for name in ("developer-settings.png", "consent.png"):
        path = folder / name
        assert png_size(path) == SIZE
        assert 10_000 < path.stat().st_size < 400_000, f"{name}: {path.stat().st_size} bytes"
