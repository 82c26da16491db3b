"""/settings/account: profile, password change, signing out everywhere."""

from __future__ import annotations

import httpx

from tests.helpers import sign_up, submit


def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url="http://testserver")


async def test_account_page_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/settings/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/account"


async def test_name_and_time_zone_are_saved(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await submit(
        client,
        "/settings/account",
        "/settings/account/profile",
        name="Ann Example",
        time_zone="Europe/Paris",
    )
    assert response.status_code == 303
    page = await client.get("/settings/account")
    assert "Your profile is saved." in page.text
    assert 'value="Ann Example"' in page.text
    assert 'value="Europe/Paris"' in page.text


async def test_unknown_time_zone_is_refused_beside_the_field(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await submit(
        client, "/settings/account", "/settings/account/profile", name="Ann", time_zone="Mars/Base"
    )
    assert response.status_code == 400
    assert 'id="time_zone-error"' in response.text


async def test_password_change_needs_the_current_one(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await submit(
        client,
        "/settings/account",
        "/settings/account/password",
        current_password="not my password",
        new_password="a brand new password",
    )
    assert response.status_code == 400
    assert "That is not your current password." in response.text


async def test_password_change_ends_every_other_session(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    laptop = browser(client)
    await submit(laptop, "/login", email="ann@example.com", password="correct horse battery")
    assert (await laptop.get("/")).headers["location"] == "/settings/developer"

    response = await submit(
        client,
        "/settings/account",
        "/settings/account/password",
        current_password="correct horse battery",
        new_password="a brand new password",
    )
    assert response.status_code == 303
    assert (await client.get("/")).headers["location"] == "/settings/developer"
    assert (await laptop.get("/")).headers["location"] == "/login"

    fresh = browser(client)
    old = await submit(fresh, "/login", email="ann@example.com", password="correct horse battery")
    assert old.status_code == 400
    new = await submit(fresh, "/login", email="ann@example.com", password="a brand new password")
    assert new.status_code == 303


async def test_sign_out_everywhere_ends_this_session_too(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    laptop = browser(client)
    await submit(laptop, "/login", email="ann@example.com", password="correct horse battery")
    response = await submit(client, "/settings/account", "/settings/account/sign-out-everywhere")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await client.get("/")).headers["location"] == "/login"
    assert (await laptop.get("/")).headers["location"] == "/login"
