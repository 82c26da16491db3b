"""A person registers an application in a real browser against `paced serve`, copies its
secret once, and the secret authenticates the app at the token endpoint by both methods."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from paced.core import token_format

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def client_auth_result(base: str, client_id: str, secret: str, method: str) -> str:
    """The error the token endpoint gives for a made-up code: `invalid_grant` means the
    client authenticated, `invalid_client` that it did not."""
    form = {"grant_type": "authorization_code", "code": "made-up"}
    if method == "client_secret_basic":
        response = httpx.post(f"{base}/oauth/token", data=form, auth=(client_id, secret))
    else:
        form |= {"client_id": client_id, "client_secret": secret}
        response = httpx.post(f"{base}/oauth/token", data=form)
    return str(response.json()["error"])


def test_register_copy_once_rotate_and_delete(server: str, page: Page) -> None:
    page.goto(f"{server}/signup")
    page.fill("#name", "Ann")
    page.fill("#email", "ann@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    page.get_by_role("link", name="Register an application").first.click()

    page.fill("#name", "Zapier")
    page.fill("#redirect_uris", "https://zapier.example/cb\nhttp://zapier.example/cb")
    page.click("text=Register application")
    assert "Line 2 (http://zapier.example/cb)" in page.inner_text("#redirect_uris-error")
    page.fill("#redirect_uris", "https://zapier.example/cb\nhttp://127.0.0.1/cb")
    page.click("text=Register application")

    client_id = page.input_value("#client-id")
    page.click("[data-copy=client-secret]")
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret.startswith("pt_client_") and secret == page.input_value("#client-secret")
    page.reload()
    assert page.locator("#client-secret").count() == 0
    assert secret not in page.content()

    for method in ("client_secret_basic", "client_secret_post"):
        assert client_auth_result(server, client_id, secret, method) == "invalid_grant"
    wrong = token_format.generate("pt_client_")
    assert client_auth_result(server, client_id, wrong, "client_secret_basic") == "invalid_client"

    with page.expect_navigation():
        page.click("text=Generate a new client secret")
    second = page.input_value("#client-secret")
    assert client_auth_result(server, client_id, secret, "client_secret_post") == "invalid_grant"
    assert client_auth_result(server, client_id, second, "client_secret_post") == "invalid_grant"
    page.locator("td a", has_text="Delete").first.click()
    with page.expect_navigation():  # the POST and its 303 back to the app's page
        page.click("text=Delete client secret")
    assert client_auth_result(server, client_id, secret, "client_secret_post") == "invalid_client"
    assert client_auth_result(server, client_id, second, "client_secret_basic") == "invalid_grant"

    page.click("text=Delete application…")
    with page.expect_navigation():
        page.click("button:has-text('Delete application')")
    assert "You have not registered an application yet." in page.content()
    assert client_auth_result(server, client_id, second, "client_secret_basic") == "invalid_client"
