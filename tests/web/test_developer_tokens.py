"""Developer settings: creating, listing and revoking personal access tokens (docs/reference.md §7)."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from paced.core import token_format
from paced.core.ids import digest
from paced.settings import Settings
from paced.storage.database import Database
from paced.storage.models import metadata, personal_tokens
from tests.conftest import Clock
from tests.helpers import begin, connect, csrf_token, sign_up, submit

NEW = "/settings/developer/tokens/new"
TOKEN = re.compile(r"pt_secret_[0-9A-Za-z]{36}")


def on_day(iso: str, day: str) -> str:
    """An expiry as the pages write it: the day, with the exact time on hover."""
    exact = iso.replace("T", " ").replace("Z", " UTC")
    return f'<time datetime="{iso}" title="{exact}">{day}</time>'


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


def database_bytes(path: Path) -> bytes:
    """The SQLite file with its -wal and -shm companions, byte for byte."""
    files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]
    assert files
    return b"".join(p.read_bytes() for p in files)


async def create_token(
    client: httpx.AsyncClient, name: str = "laptop script", **fields: str | list[str]
) -> str:
    """Create a token through the form; returns the secret shown once."""
    response = await submit(
        client, NEW, name=name, **{"scopes": ["read", "write"], "expiration": "30", **fields}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/settings/developer/tokens/created"
    assert "pt_secret_" not in response.headers["location"]
    shown = await client.get(response.headers["location"])
    assert shown.status_code == 200
    found = TOKEN.findall(shown.text)
    assert found, shown.text
    return str(found[0])


async def test_signed_out_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    for path in ("/settings/developer", NEW, "/settings/developer/tokens/created"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/settings/developer")


async def test_the_empty_state_says_what_to_do(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page = await client.get("/settings/developer")
    assert page.status_code == 200
    assert "You have no personal access tokens yet." in page.text
    assert 'href="/settings/developer/tokens/new"' in page.text
    assert "Create a token" in page.text
    assert 'href="/settings/developer">Developer settings</a>' in page.text
    assert "OAuth applications" in page.text
    assert 'href="/settings/developer/applications/new"' in page.text


async def test_the_form_offers_name_scopes_and_expiry_with_30_days_preselected(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    page = await client.get(NEW)
    assert page.status_code == 200
    assert "<h1>Create a token</h1>" in page.text
    assert '<button type="submit" class="primary">Create a token</button>' in page.text
    assert '<label for="name">Name</label>' in page.text and 'maxlength="100"' in page.text
    for scope, words in (("read", "Read your account data"), ("write", "Change your account data")):
        assert f'name="scopes" value="{scope}" checked' in page.text
        assert words in page.text
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', page.text)
    # Each choice says the day it ends on (the clock reads 15 January 2026, 12:00 UTC).
    assert options == [
        ("7", "", "7 days: expires on 22 January 2026"),
        ("30", " selected", "30 days: expires on 14 February 2026"),
        ("60", "", "60 days: expires on 16 March 2026"),
        ("90", "", "90 days: expires on 15 April 2026"),
        ("custom", "", "Custom date"),
        ("none", "", "No expiration (not recommended)"),
    ]
    assert "is a deliberate choice" in page.text
    assert '<label for="expiration_date">Custom expiration date</label>' in page.text
    assert 'type="date"' in page.text


async def test_a_new_token_is_shown_once_and_never_again(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    response = await submit(client, NEW, name="laptop", scopes=["read"], expiration="7")
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("paced_reveal=")
    )
    # Path=/ as a __Host- cookie must have on https; the sealed value names its page.
    assert "HttpOnly" in cookie and "Path=/;" in cookie
    shown = await client.get(response.headers["location"])
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    (secret,) = set(TOKEN.findall(shown.text))
    # The cookie that carried it is encrypted: no trace of the secret in any encoding.
    carried = cookie.split(";")[0].removeprefix("paced_reveal=")
    for encoded in (secret, secret[10:], base64.urlsafe_b64encode(secret.encode()).decode()[:20]):
        assert encoded not in carried
    assert "pt_secret_" not in base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)).decode(
        "latin-1"
    )
    assert "You will not be able to see it again" in shown.text
    assert 'data-copy="new-token"' in shown.text and 'id="new-token"' in shown.text
    # The API answers to it.
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["email"] == "ann@example.com"
    assert api.headers["x-oauth-scopes"] == "read"
    # Reloading the page shows it no more, nor does the list.
    again = await client.get(response.headers["location"])
    assert again.status_code == 200 and again.headers["cache-control"] == "no-store"
    assert not TOKEN.search(again.text) and secret not in again.text
    assert "This token is no longer shown" in again.text
    listing = await client.get("/settings/developer")
    assert not TOKEN.search(listing.text) and "laptop" in listing.text
    # The list shows its hint, so that a person can tell which token a leaked value is.
    assert token_format.hint(secret) in listing.text and token_format.hint(secret) in shown.text
    assert f"It expires on {on_day('2026-01-22T12:00:00Z', '22 January 2026')}" in shown.text


async def test_a_replayed_cookie_shows_nothing_to_another_user_or_after_five_minutes(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    response = await submit(client, NEW, name="laptop", scopes=["read"], expiration="7")
    stolen = client.cookies["paced_reveal"]
    client.cookies.delete("paced_reveal")
    # Five minutes later, the same browser gets nothing.
    clock.advance(minutes=5, seconds=1)
    client.cookies.set("paced_reveal", stolen, path="/settings/developer/tokens/created")
    late = await client.get(response.headers["location"])
    assert "pt_secret_" not in late.text
    # Another account never does.
    clock.advance(minutes=-5, seconds=-1)
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(other, email="bob@example.com")
    other.cookies.set("paced_reveal", stolen, path="/settings/developer/tokens/created")
    page = await other.get(response.headers["location"])
    assert "pt_secret_" not in page.text


async def test_the_list_shows_each_token_with_its_state(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    secret = await create_token(client, "ci deploys", scopes=["read"], expiration="7")
    await create_token(client, "forever", expiration="none")
    await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    clock.advance(days=8)
    page = (await client.get("/settings/developer")).text
    rows = dict(re.findall(r'<tr id="(pat_[0-9A-Za-z]{24})"[^>]*>(.*?)</tr>', page, re.S))
    assert len(rows) == 2
    ci = next(row for row in rows.values() if "ci deploys" in row)
    forever = next(row for row in rows.values() if "forever" in row)
    assert '<span class="badge expired">expired</span>' in ci
    assert '<span class="badge active">active</span>' in forever
    assert ">read</span>" in ci and ">write</span>" not in ci
    assert ">read</span>" in forever and ">write</span>" in forever
    # Created and last used are times with the exact time on hover; never used says never.
    assert '<td data-label="Last used"><time datetime="2026-01-15T12:00:00Z"' in ci
    assert 'title="2026-01-15 12:00:00 UTC"' in ci
    assert '<td data-label="Last used">never</td>' in forever
    # Expiry is the exact day, in the user's time zone; no expiration stands out.
    assert '<td data-label="Expiry"><span class="badge warning">No expiration</span>' in forever
    expired = (
        f'<td data-label="Expiry">Expired on {on_day("2026-01-22T12:00:00Z", "22 January 2026")}'
    )
    assert expired in ci
    # Only active tokens offer to be revoked; the others are greyed.
    assert "/revoke" in forever and "/revoke" not in ci
    assert re.search(r'<tr id="pat_\w+" class="inactive">\s*<td data-label="Name">ci deploys', page)
    assert re.search(r'<tr id="pat_\w+">\s*<td data-label="Name">forever', page)


async def test_revoked_and_expired_tokens_can_be_hidden_without_javascript(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    await create_token(client, "short", expiration="7")
    await create_token(client, "kept", expiration="30")
    page = (await client.get("/settings/developer")).text
    assert "revoked and expired" not in page  # nothing to hide yet
    clock.advance(days=8)
    page = (await client.get("/settings/developer")).text
    assert (
        '<a href="/settings/developer?tokens=active">Hide revoked and expired tokens (1)</a>'
        in page
    )
    assert ">short</td>" in page and ">kept</td>" in page
    hidden = (await client.get("/settings/developer?tokens=active")).text
    assert ">short</td>" not in hidden and ">kept</td>" in hidden
    assert '<a href="/settings/developer">Show revoked and expired tokens (1)</a>' in hidden


async def test_expiry_dates_are_days_in_the_users_time_zone(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    """12:00 UTC on 15 January is already the 16th in Auckland (UTC+13)."""
    await sign_up(client)
    response = await submit(
        client,
        "/settings/account",
        "/settings/account/profile",
        name="Ann",
        time_zone="Pacific/Auckland",
    )
    assert response.status_code == 303
    form = (await client.get(NEW)).text
    assert "7 days: expires on 23 January 2026" in form and "Pacific/Auckland" in form
    await create_token(client, "ci", expiration="7")
    page = (await client.get("/settings/developer")).text
    assert f"Expires on {on_day('2026-01-22T12:00:00Z', '23 January 2026')}" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Give the token a name"),
        ({"name": "x" * 101}, "Use at most 100 characters."),
        ({"scopes": []}, "Choose at least one scope."),
        ({"expiration": "custom", "expiration_date": ""}, "Enter a date like 2030-12-31."),
        ({"expiration": "custom", "expiration_date": "2026-01-15"}, "Choose a date after today."),
        ({"expiration": "1000"}, "Choose when the token expires."),
        ({"name": "ci\u202etoken"}, "Remove the control characters"),
        ({"name": "ci\u200b"}, "Remove the control characters"),
    ],
    ids=[
        "no name",
        "a name of 101 characters",
        "no scope",
        "a custom expiry without a date",
        "a custom expiry of today",
        "an expiry not offered",
        "a name with a right-to-left override",
        "a name with a zero-width space",
    ],
)
async def test_the_form_says_what_is_wrong_beside_the_field(
    client: httpx.AsyncClient, fields: dict[str, str | list[str]], message: str
) -> None:
    await sign_up(client)
    data: dict[str, str | list[str]] = {"name": "kept", "scopes": ["write"], "expiration": "60"}
    data.update(fields)
    response = await submit(client, NEW, **data)
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error"' in response.text
    if "name" not in fields:
        assert 'value="kept"' in response.text
    if "scopes" not in fields:
        assert 'name="scopes" value="write" checked' in response.text
        assert 'name="scopes" value="read" checked' not in response.text
    listing = await client.get("/settings/developer")
    assert "You have no personal access tokens yet." in listing.text


async def test_a_custom_date_sets_the_expiry(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    await create_token(client, expiration="custom", expiration_date="2026-02-01")
    page = (await client.get("/settings/developer")).text
    assert f"Expires on {on_day('2026-02-02T00:00:00Z', '2 February 2026')}" in page


async def test_the_form_needs_a_csrf_token(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await client.post(NEW, data={"name": "x", "scopes": "read", "expiration": "7"})
    assert response.status_code == 403


async def test_revoking_asks_first_without_javascript_then_holds_at_once(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    secret = await create_token(client, "to revoke")
    listing = (await client.get("/settings/developer")).text
    (confirm,) = re.findall(r'href="(/settings/developer/tokens/pat_\w+/revoke)"', listing)
    page = await client.get(confirm)
    assert page.status_code == 200
    assert "Revoke token \u201cto revoke\u201d?" in page.text
    assert f'<form method="post" action="{confirm}">' in page.text
    response = await client.post(confirm, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/settings/developer"
    after = await client.get("/settings/developer")
    assert "is revoked" in after.text
    assert '<span class="badge revoked">revoked</span>' in after.text
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401 and api.json()["error"] == "invalid_token"
    # The confirmation page of a revoked token says so, and offers no button.
    again = await client.get(confirm)
    assert "is revoked" in again.text and "Revoke token</button>" not in again.text


async def test_another_users_token_is_not_found(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    secret = await create_token(client)
    listing = (await client.get("/settings/developer")).text
    (confirm,) = re.findall(r'href="(/settings/developer/tokens/pat_\w+/revoke)"', listing)
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(other, email="bob@example.com")
    assert (await other.get(confirm)).status_code == 404
    token = csrf_token((await other.get("/settings/developer")).text)
    assert (await other.post(confirm, data={"csrf_token": token})).status_code == 404
    assert "laptop script" not in (await other.get("/settings/developer")).text
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    unknown = "/settings/developer/tokens/pat_000000000000000000000000/revoke"
    assert (await client.get(unknown)).status_code == 404


async def test_the_database_holds_no_token_in_plaintext(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    await sign_up(client)
    secrets = [await create_token(client, f"token {n}") for n in range(3)]
    for secret in secrets:
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    engine = engine_of(app)
    async with connect(engine) as connection:
        everything = ""
        for table in metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                everything += repr(tuple(row))
    assert all(digest(secret) in everything for secret in secrets)  # the digest is kept
    for secret in secrets:
        assert secret not in everything
        assert secret[10:40] not in everything  # not even its random part
    path = settings.sqlite_path
    if path is not None:
        await engine.close()  # flush what SQLite holds
        raw = database_bytes(path)
        assert all(digest(secret).encode() in raw for secret in secrets)
        for secret in secrets:
            assert secret.encode() not in raw
            assert secret[10:40].encode() not in raw


# Audit finding 9d: the cookie that carried a secret is worthless once the page showed it.
async def test_the_cookie_that_carried_a_token_shows_nothing_when_sent_again_in_its_session(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    response = await submit(client, NEW, name="laptop", scopes=["read"], expiration="7")
    kept = client.cookies["paced_reveal"]
    shown = await client.get(response.headers["location"])
    assert TOKEN.search(shown.text)
    client.cookies.set("paced_reveal", kept)  # as a browser that ignored the deletion
    replayed = await client.get(response.headers["location"])
    assert replayed.status_code == 200 and not TOKEN.search(replayed.text)


async def test_the_same_cookie_sent_twice_at_once_shows_the_token_once(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    response = await submit(client, NEW, name="laptop", scopes=["read"], expiration="7")
    page = response.headers["location"]
    pages = await asyncio.gather(*(client.get(page) for _ in range(4)))
    assert sum(bool(TOKEN.search(shown.text)) for shown in pages) == 1


async def test_a_token_made_before_hints_were_kept_shows_the_bare_prefix(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client)
    secret = await create_token(client, "old one")
    async with begin(engine_of(app)) as connection:
        await connection.execute(personal_tokens.update().values(hint=None))  # as 0006 left it
    page = (await client.get("/settings/developer")).text
    assert '<td data-label="Token"><code class="credential-hint">pt_secret_…</code></td>' in page
    assert token_format.hint(secret) not in page
