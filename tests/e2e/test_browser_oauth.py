"""The authorization flow in a real browser, as a person meets it: a client's link, signing
in (or up), the consent screen, and the way back to the client's own redirect endpoint (a
server on 127.0.0.1); the client then exchanges the code and calls the API. Later the
person takes the access back on the authorized-applications page."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import (
    PASSWORD,
    authorize_url,
    callback_server,
    exchange_code,
    me,
    register_app,
    signed_up_client,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_new_person_authorizes_an_app_from_its_link_then_revokes_it(
    page: Page, server: str
) -> None:
    app = register_app(server)
    with callback_server() as client:
        link = authorize_url(server, app, client.redirect_uri, state="st-4711", scope="read write")
        page.goto(link)
        expect(page).to_have_url(re.compile(re.escape(f"{server}/login?next=")))
        page.locator("main").get_by_role("link", name="Create an account").click()
        page.get_by_label("Name").fill("Ann")
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()

        # Back to the request: who asks, for what, for which account, sent where.
        expect(page.get_by_role("heading", name="Authorize Mailmerge")).to_be_visible()
        consent = page.locator("main")
        expect(consent).to_contain_text("an application by Olivia Owner (olivia@example.com)")
        expect(consent.get_by_role("listitem")).to_have_text(
            ["Read your account data (read)", "Change your account data (write)"]
        )
        expect(consent).to_contain_text("ann@example.com")
        expect(consent).to_contain_text(client.redirect_uri.split("/")[2])
        buttons = consent.get_by_role("button")
        expect(buttons).to_have_text(["Deny", "Authorize"])  # Deny first
        page.get_by_role("button", name="Authorize").click()
        received = client.wait()
        expect(page.get_by_role("heading", name="Back at Mailmerge")).to_be_visible()

    assert set(received) == {"code", "state", "iss"}
    assert received["state"] == "st-4711" and received["iss"] == server
    tokens = exchange_code(server, app, received["code"], client.redirect_uri)
    assert tokens["scope"] == "read write" and tokens["access_token"].startswith("pt_oauth_")
    answer = me(server, tokens["access_token"])
    assert answer.status_code == 200 and answer.json()["email"] == "ann@example.com"
    assert answer.headers["x-oauth-scopes"] == "read, write"

    page.goto(f"{server}/settings/developer")
    page.get_by_role("link", name="Authorized applications").click()
    row = page.get_by_role("row").filter(has_text="Mailmerge")
    expect(row).to_contain_text("Read your account data")
    expect(row.locator("time")).to_have_count(2)  # authorized, last used
    row.get_by_role("link", name="Revoke Mailmerge").click()
    expect(page.get_by_role("heading", name="Revoke access for Mailmerge?")).to_be_visible()
    page.get_by_role("button", name="Revoke access").click()
    expect(page.get_by_role("status")).to_have_text(
        "Mailmerge no longer has access to your account."
    )
    expect(page.get_by_text("You have not authorized any application.")).to_be_visible()

    refused = me(server, tokens["access_token"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    refresh = httpx.post(
        f"{server}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app.client_id, app.client_secret),
        timeout=10,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_a_person_signs_in_from_the_link_and_denies(page: Page, server: str) -> None:
    app = register_app(server)
    signed_up_client(server, "Ann", "ann@example.com").close()
    with callback_server() as client:
        page.goto(authorize_url(server, app, client.redirect_uri, state="st-no"))
        expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()

        expect(page.get_by_role("heading", name="Authorize Mailmerge")).to_be_visible()
        expect(page.locator("main").get_by_role("listitem")).to_have_text(
            ["Read your account data (read)"]
        )
        page.get_by_role("button", name="Deny").click()
        received = client.wait()
        expect(page.get_by_role("heading", name="Back at Mailmerge")).to_be_visible()
        assert client.nothing_more()

    assert received["error"] == "access_denied"
    assert received["state"] == "st-no" and received["iss"] == server
    assert "code" not in received
    page.goto(f"{server}/settings/authorized-applications")
    expect(page.get_by_text("You have not authorized any application.")).to_be_visible()
