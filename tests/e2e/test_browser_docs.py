"""`/docs` in Chromium with every request outside 127.0.0.1 refused: Swagger UI comes
from paced itself, runs under the strict Content-Security-Policy, and shows every
operation of `/openapi.json`."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_docs_work_offline_under_the_strict_policy(page: Page, server: str) -> None:
    outside: list[str] = []
    local: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            local.append(url)
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", only_local)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    bad_status: list[str] = []
    page.on("response", lambda r: bad_status.append(r.url) if r.status >= 400 else None)

    page.goto(f"{server}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Paced Email API")
    expect(page.locator(".opblock").first).to_be_visible()

    operations = httpx.get(f"{server}/openapi.json").json()["paths"]
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    for path in operations:
        assert any(text.replace("\u200b", "") == path for text in shown), path

    assert outside == []
    assert failed == []
    assert bad_status == []
    assert problems == []  # a blocked script or style would be a CSP error here
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in local)


def test_the_docs_page_has_no_unsafe_inline(server: str) -> None:
    response = httpx.get(f"{server}/docs")
    policy = response.headers["content-security-policy"]
    assert response.status_code == 200
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self';" in policy
    assert "<script>" not in response.text  # every script is a file
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert httpx.get(f"{server}{asset}").status_code == 200, asset
