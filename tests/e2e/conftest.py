"""Real servers and a real browser: Debian's Chromium driven by Playwright.

On a failure, a screenshot and the page's HTML are kept under test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.server import paced_serve

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("PACED_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call":  # type: ignore[attr-defined]
        item.stash[_FAILED] = report.failed  # type: ignore[attr-defined]
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real `paced serve` on the test database; yields its base URL."""
    with paced_serve(database_url, tmp_path) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event
    loop running in the main thread while it is open, which the async tests of other
    modules cannot share."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Options of the browser context behind `page`; a module overrides this fixture to
    turn JavaScript off or to be a phone."""
    return {}


@pytest.fixture
def page(
    browser: Browser, context_options: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = browser.new_context(**{"viewport": {"width": 1200, "height": 900}, **context_options})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    if request.node.stash.get(_FAILED, False):
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / "page.png"), full_page=True)
        (folder / "page.html").write_text(tab.content())
    context.close()
