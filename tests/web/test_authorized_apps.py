"""/settings/authorized-applications: what the user granted, and revoking it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select, update

from paced.core import token_format
from paced.core.ids import digest, random_base62
from paced.storage.models import access_tokens, grants, refresh_tokens
from tests.conftest import Clock
from tests.helpers import begin, connect, csrf_token, sign_up
from tests.web.test_authorize import (
    Client,
    authorize_url,
    decide,
    engine_of,
    register,
)

PAGE = "/settings/authorized-applications"


async def approve(client: httpx.AsyncClient, app: Client, scope: str = "read") -> None:
    page = await client.get(authorize_url(app, scope=scope, prompt="consent"))
    response = await decide(client, page, "approve")
    assert response.status_code == 303


async def grant_ids(app: FastAPI, client_app: Client) -> list[str]:
    async with connect(engine_of(app)) as connection:
        rows = await connection.execute(
            select(grants.c.id).where(grants.c.app_id == client_app.app_id)
        )
        return [row.id for row in rows]


async def add_access_token(app: FastAPI, grant_id: str, clock: Clock) -> str:
    """What the token endpoint stores for an access token it hands out."""
    token = token_format.generate(token_format.ACCESS)
    async with begin(engine_of(app)) as connection:
        await connection.execute(
            insert(access_tokens).values(
                id=random_base62(24),
                grant_id=grant_id,
                digest=digest(token),
                scopes="read",
                created_at=clock(),
                expires_at=clock() + timedelta(hours=2),
            )
        )
        await connection.execute(
            insert(refresh_tokens).values(
                id=random_base62(24),
                grant_id=grant_id,
                digest=digest(token_format.generate(token_format.REFRESH)),
                scopes="read",
                created_at=clock(),
            )
        )
    return token


async def test_signed_out_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/authorized-applications"


async def test_the_empty_page_says_what_will_appear(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "You have not authorized any application." in page.text
    assert "Developer settings" in page.text and "Sign out" in page.text


async def test_each_app_is_listed_once_with_its_scopes_and_times(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    zapier = await register(app, name="Zapier")
    other = await register(app, name="Other")
    await sign_up(client)
    await approve(client, zapier, "read")
    clock.advance(days=2)
    await approve(client, zapier, "write")
    await approve(client, other)
    async with begin(engine_of(app)) as connection:
        await connection.execute(
            update(grants).where(grants.c.app_id == zapier.app_id).values(last_used_at=clock())
        )
    page = await client.get(PAGE)
    text = page.text
    assert text.count("Zapier") == 2  # the name, and the revoke link's hidden label
    assert "Read your account data" in text and "Change your account data" in text
    # First granted: the older approval; last used: shown as a time, else "never".
    assert 'datetime="2026-01-15T12:00:00Z"' in text
    assert 'datetime="2026-01-17T12:00:00Z"' in text
    assert "never" in text  # Other was never used
    assert f'href="{PAGE}/{zapier.app_id}/revoke"' in text
    assert f'href="{PAGE}/{other.app_id}/revoke"' in text


async def test_revoking_asks_for_confirmation_without_javascript(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    zapier = await register(app)
    await sign_up(client)
    await approve(client, zapier)
    confirm = await client.get(f"{PAGE}/{zapier.app_id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke access for Zapier?" in confirm.text
    assert f'<form method="post" action="{PAGE}/{zapier.app_id}/revoke">' in confirm.text
    # Only showing the confirmation changes nothing.
    assert all(g is None for g in await revoked_times(app, zapier))


async def revoked_times(app: FastAPI, client_app: Client) -> list[object]:
    async with connect(engine_of(app)) as connection:
        rows = await connection.execute(
            select(grants.c.revoked_at).where(grants.c.app_id == client_app.app_id)
        )
        return [row.revoked_at for row in rows]


async def test_revoking_ends_every_grant_and_token_of_the_app_and_its_api_access(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    zapier = await register(app)
    other = await register(app, name="Other")
    await sign_up(client)
    await approve(client, zapier)
    await approve(client, zapier, "write")
    await approve(client, other)
    first, second = await grant_ids(app, zapier)
    token = await add_access_token(app, first, clock)
    other_token = await add_access_token(app, (await grant_ids(app, other))[0], clock)
    api = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=api)).status_code == 200

    confirm = await client.get(f"{PAGE}/{zapier.app_id}/revoke")
    response = await client.post(
        f"{PAGE}/{zapier.app_id}/revoke", data={"csrf_token": csrf_token(confirm.text)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    page = await client.get(PAGE)
    assert "Zapier no longer has access to your account." in page.text
    assert f"{zapier.app_id}/revoke" not in page.text
    assert f"{other.app_id}/revoke" in page.text

    assert await revoked_times(app, zapier) == [clock(), clock()]
    async with connect(engine_of(app)) as connection:
        for table in (access_tokens, refresh_tokens):
            rows = (await connection.execute(select(table.c.grant_id, table.c.revoked_at))).all()
            assert {row.grant_id: row.revoked_at for row in rows}[first] == clock()
            assert [r.revoked_at for r in rows if r.grant_id not in (first, second)] == [None]
    # The next API request with the app's token fails; the other app's still works.
    assert (await client.get("/api/v1/me", headers=api)).status_code == 401
    other_api = {"Authorization": f"Bearer {other_token}"}
    assert (await client.get("/api/v1/me", headers=other_api)).status_code == 200
    # The app must ask again: the screen is shown, not skipped.
    assert (await client.get(authorize_url(zapier))).status_code == 200


async def test_revoking_leaves_other_users_grants_alone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    zapier = await register(app)
    bob = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(bob, email="bob@example.com")
    await approve(bob, zapier)
    await sign_up(client)
    await approve(client, zapier)
    confirm = await client.get(f"{PAGE}/{zapier.app_id}/revoke")
    await client.post(
        f"{PAGE}/{zapier.app_id}/revoke", data={"csrf_token": csrf_token(confirm.text)}
    )
    times = await revoked_times(app, zapier)
    assert len(times) == 2 and times.count(None) == 1  # Ann's grant ended, Bob's did not
    assert "Zapier" in (await bob.get(PAGE)).text


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["the confirmation", "the revocation"])
async def test_an_app_the_user_never_authorized_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, method: str
) -> None:
    zapier = await register(app)
    bob = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(bob, email="bob@example.com")
    await approve(bob, zapier)
    await sign_up(client)
    page = await client.get(PAGE)
    url = f"{PAGE}/{zapier.app_id}/revoke"
    if method == "GET":
        response = await client.get(url)
    else:
        response = await client.post(url, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 404
    assert "This application has no access to your account." in response.text
    assert await revoked_times(app, zapier) == [None]


async def test_revoking_needs_the_csrf_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    zapier = await register(app)
    await sign_up(client)
    await approve(client, zapier)
    response = await client.post(f"{PAGE}/{zapier.app_id}/revoke", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert await revoked_times(app, zapier) == [None]
