"""The sessions list of /settings/security: each signed-in browser in words, and Sign out
for each."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit

PASSWORD = "correct horse battery"
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def browser(client: httpx.AsyncClient, user_agent: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver",
        headers={"user-agent": user_agent},
    )


def sign_out_forms(page: str) -> dict[str, str]:
    """Browser in words -> the action of its Sign out form."""
    rows = re.findall(
        r'<span title="[^"]*">([^<]+)</span>.*?action="(/settings/security/sessions/[^"]+/sign-out)"',
        page,
        re.S,
    )
    return dict(rows)


async def test_each_session_is_listed_in_words_with_this_browser_marked(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    clock.advance(minutes=5)
    windows = browser(client, WINDOWS_FIREFOX)
    await submit(windows, "/login", email="ann@example.com", password=PASSWORD)
    page = (await mac.get("/settings/security")).text
    assert "Chrome 131 on macOS" in page and "Firefox 133 on Windows" in page
    mine = page.index("Chrome 131 on macOS")
    assert page.index("This browser", mine) < page.index("Firefox 133 on Windows")
    assert page.count("This browser") == 1
    # When the Mac signed in, and when each was last active (the Mac: this request).
    assert page.count('datetime="2026-01-15T12:00:00Z"') == 1
    assert page.count('datetime="2026-01-15T12:05:00Z"') == 3
    assert page.count("203.0.113") == 0 and "127.0.0.1" in page  # the address seen


async def test_signing_out_another_session_ends_it_at_once(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    windows = browser(client, WINDOWS_FIREFOX)
    await submit(windows, "/login", email="ann@example.com", password=PASSWORD)
    page = (await mac.get("/settings/security")).text
    action = sign_out_forms(page)["Firefox 133 on Windows"]
    done = await mac.post(action, data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303 and done.headers["location"] == "/settings/security"
    assert (await windows.get("/settings/security")).status_code == 303  # to /login
    page = (await mac.get("/settings/security")).text
    assert (
        "That session is signed out." in page
        and "Firefox" not in page.split('<h2 id="sessions-heading">')[1]
    )
    log = (await mac.get("/settings/security-log")).text
    assert "Session signed out" in log and "Firefox 133 on Windows" in log


async def test_signing_out_this_browser_goes_to_the_sign_in_page(client: httpx.AsyncClient) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    page = (await mac.get("/settings/security")).text
    action = sign_out_forms(page)["Chrome 131 on macOS"]
    done = await mac.post(action, data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert (await mac.get("/settings/security")).status_code == 303


async def test_sign_out_is_a_post_with_a_csrf_token(client: httpx.AsyncClient) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    page = (await mac.get("/settings/security")).text
    action = sign_out_forms(page)["Chrome 131 on macOS"]
    assert (await mac.get(action)).status_code == 405
    assert (await mac.post(action)).status_code == 403
    assert (await mac.get("/settings/security")).status_code == 200


async def test_another_accounts_session_cannot_be_signed_out(client: httpx.AsyncClient) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    mallory = browser(client, WINDOWS_FIREFOX)
    await sign_up(mallory, email="mallory@example.com")
    action = sign_out_forms((await mac.get("/settings/security")).text)["Chrome 131 on macOS"]
    page = (await mallory.get("/settings/security")).text
    refused = await mallory.post(action, data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 303
    assert "That session has ended already." in (await mallory.get("/settings/security")).text
    assert (await mac.get("/settings/security")).status_code == 200


async def test_last_active_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    clock.advance(minutes=30)
    await mac.get("/settings/developer")
    clock.advance(seconds=50)  # less than a minute: no new write
    page = (await mac.get("/settings/security")).text
    last_active = re.search(r'data-label="Last active"><time datetime="([^"]+)"', page)
    assert last_active and last_active.group(1) == "2026-01-15T12:30:00Z"
    clock.advance(seconds=10)
    page = (await mac.get("/settings/security")).text
    last_active = re.search(r'data-label="Last active"><time datetime="([^"]+)"', page)
    assert last_active and last_active.group(1) == "2026-01-15T12:31:00Z"


async def test_the_security_log_names_browsers_in_words(client: httpx.AsyncClient) -> None:
    mac = browser(client, MAC_CHROME)
    await sign_up(mac)
    log = (await mac.get("/settings/security-log")).text
    assert "Chrome 131 on macOS" in log
