"""Email verification, password reset, notifications and disabled accounts over HTTP.

The links are read where the sender would read them: the outbox table."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from paced.core import account_status
from paced.core.security_log import COMMAND_LINE
from paced.settings import Settings
from paced.storage.models import grants, mail_queue, security_events
from paced.web.app import create_app
from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit
from tests.token_rows import add_oauth_token, add_user
from tests.web.test_api_v1 import assert_invalid_token, me

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new and better one"


async def mails(app: FastAPI, kind: str | None = None) -> list[dict[str, object]]:
    async with app.paced.database.reading() as store:
        rows = (await store.connection.execute(select(mail_queue).order_by(mail_queue.c.id))).all()
    found = [row._asdict() | {"detail": json.loads(row.detail)} for row in rows]
    return [row for row in found if kind is None or row["kind"] == kind]


async def last_link(app: FastAPI, kind: str) -> str:
    link = (await mails(app, kind))[-1]["detail"]
    assert isinstance(link, dict)
    return str(link["link"])


async def event_names(app: FastAPI) -> list[str]:
    async with app.paced.database.reading() as store:
        rows = await store.connection.execute(
            select(security_events.c.event).order_by(security_events.c.id)
        )
    return list(rows.scalars())


def other_browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


# --- email verification ---------------------------------------------------------------


async def test_sign_up_mails_a_link_that_verifies_the_address_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    account = (await client.get("/settings/account")).text
    assert "is not verified yet" in account and ">Resend</button>" in account
    (queued,) = await mails(app)
    assert queued["kind"] == "verify_email" and queued["recipient"] == "ann@example.com"
    link = await last_link(app, "verify_email")
    assert re.fullmatch(r"/verify-email/[\w-]{43}", link)

    shown = await client.get(link)
    assert shown.status_code == 200 and "Confirm my email address" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["referrer-policy"] == "no-referrer"
    confirmed = await client.post(link, data={"csrf_token": csrf_token(shown.text)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/settings/account"
    assert "is not verified yet" not in (await client.get("/settings/account")).text
    assert "email_verified" in await event_names(app)

    again = await client.post(link, data={"csrf_token": csrf_token(shown.text)})
    assert again.status_code == 400 and "cannot be used" in again.text
    assert (await client.get(link)).status_code == 400


async def test_a_verification_link_is_valid_24_hours(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(client, password=PASSWORD)
    link = await last_link(app, "verify_email")
    clock.advance(hours=24)
    assert (await client.get(link)).status_code == 400


async def test_resend_mails_a_new_link_and_is_rate_limited(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    page = (await client.get("/settings/developer")).text
    for _ in range(5):
        sent = await client.post(
            "/settings/account/verify-email",
            data={"csrf_token": csrf_token(page), "back": "/settings/developer"},
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/settings/developer"
    assert len(await mails(app, "verify_email")) == 6
    refused = await client.post(
        "/settings/account/verify-email", data={"csrf_token": csrf_token(page)}
    )
    assert refused.status_code == 303
    assert "Too many links sent" in (await client.get("/settings/account")).text
    assert len(await mails(app, "verify_email")) == 6


async def test_resend_needs_its_csrf_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    await sign_up(client, password=PASSWORD)
    refused = await client.post("/settings/account/verify-email", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert len(await mails(app, "verify_email")) == 1


# --- password reset -------------------------------------------------------------------


async def ask_reset(http: httpx.AsyncClient, email: str) -> tuple[httpx.Response, httpx.Response]:
    asked = await submit(http, "/password/forgot", email=email)
    return asked, await http.get(asked.headers["location"])


async def test_the_forgot_page_answers_alike_for_every_address(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    client.cookies.clear()
    known, known_page = await ask_reset(client, "ann@example.com")
    unknown, unknown_page = await ask_reset(client, "nobody@example.com")
    assert (known.status_code, known.headers["location"]) == (303, "/password/forgot/sent")
    assert (unknown.status_code, unknown.headers["location"]) == (303, "/password/forgot/sent")
    assert known.content == unknown.content
    assert known_page.status_code == unknown_page.status_code == 200
    assert known_page.text == unknown_page.text
    assert "If an account exists for that address" in known_page.text
    assert len(await mails(app, "password_reset")) == 1  # only the real account is mailed
    assert (await event_names(app)).count("password_reset_requested") == 2


async def test_asking_for_reset_links_is_limited_per_address_known_or_not(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    client.cookies.clear()
    for email in ("ann@example.com", "nobody@example.com"):
        for _ in range(5):
            assert (await submit(client, "/password/forgot", email=email)).status_code == 303
    refused = [
        await submit(client, "/password/forgot", email=email)
        for email in ("ANN@example.com", "nobody@example.com")
    ]
    assert [r.status_code for r in refused] == [429, 429]
    assert all(r.headers["retry-after"] for r in refused)
    assert "Too many reset links asked for this address" in refused[0].text
    assert len(await mails(app, "password_reset")) == 5


async def test_a_reset_ends_every_session_and_works_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    async with other_browser(app) as elsewhere:
        assert (
            await submit(elsewhere, "/login", email="ann@example.com", password=PASSWORD)
        ).status_code == 303
        await ask_reset(client, "ann@example.com")
        link = await last_link(app, "password_reset")
        assert re.fullmatch(r"/password/reset/[\w-]{43}", link)

        form = await client.get(link)
        assert form.status_code == 200
        assert form.headers["cache-control"] == "no-store"
        assert form.headers["referrer-policy"] == "no-referrer"
        short = await client.post(link, data={"csrf_token": csrf_token(form.text), "password": "x"})
        assert short.status_code == 400 and "at least 8 characters" in short.text
        done = await client.post(
            link, data={"csrf_token": csrf_token(form.text), "password": NEW_PASSWORD}
        )
        assert done.status_code == 303 and done.headers["location"] == "/login"

        # Every session is over, the other browser's too.
        for http in (client, elsewhere):
            assert (await http.get("/settings/account")).status_code == 303
    client.cookies.clear()
    old = await submit(client, "/login", email="ann@example.com", password=PASSWORD)
    assert old.status_code == 400
    new = await submit(client, "/login", email="ann@example.com", password=NEW_PASSWORD)
    assert new.status_code == 303
    again = await client.get(link)
    assert again.status_code == 400 and "cannot be used" in again.text
    assert "password_reset" in await event_names(app)
    changed = await mails(app, "password_changed")
    assert len(changed) == 1 and changed[0]["detail"] == {"by_reset": True}


async def test_a_reset_link_expires_after_an_hour(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(client, password=PASSWORD)
    await ask_reset(client, "ann@example.com")
    link = await last_link(app, "password_reset")
    form = await client.get(link)
    clock.advance(hours=1)
    late = await client.post(
        link, data={"csrf_token": csrf_token(form.text), "password": NEW_PASSWORD}
    )
    assert late.status_code == 400 and "cannot be used" in late.text


@pytest.mark.parametrize("token", ["nope", "x" * 300], ids=["unknown", "very long"])
async def test_an_unknown_link_is_a_clear_400(client: httpx.AsyncClient, token: str) -> None:
    for path in (f"/password/reset/{token}", f"/verify-email/{token}"):
        response = await client.get(path)
        assert response.status_code == 400 and "cannot be used" in response.text


# --- notifications --------------------------------------------------------------------


async def test_a_new_token_and_a_password_change_are_told_by_mail_without_secrets(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, password=PASSWORD)
    made = await submit(
        client, "/settings/developer/tokens/new", name="ci", scopes=["read"], expiration="30"
    )
    assert made.status_code == 303
    shown = (await client.get(made.headers["location"])).text
    secret = re.search(r"pt_secret_\w+", shown)
    assert secret
    changed = await submit(
        client,
        "/settings/account",
        "/settings/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
    )
    assert changed.status_code == 303
    (token_mail,) = await mails(app, "personal_token_created")
    assert token_mail["detail"]["hint"] == f"pt_secret_…{secret.group(0)[-4:]}"  # type: ignore[index]
    assert secret.group(0) not in json.dumps(await mails(app), default=str)
    assert [m["kind"] for m in await mails(app)] == [
        "verify_email",
        "personal_token_created",
        "password_changed",
    ]


# --- operators: disabled accounts ----------------------------------------------------------


async def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop_at_once(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(client, password=PASSWORD)
    made = await submit(
        client, "/settings/developer/tokens/new", name="ci", scopes=["read"], expiration="30"
    )
    secret = re.search(r"pt_secret_\w+", (await client.get(made.headers["location"])).text)
    assert secret
    assert (await me(client, f"Bearer {secret.group(0)}")).status_code == 200
    async with app.paced.database.unit_of_work() as store:
        await account_status.disable(store, "ann@example.com", clock(), origin=COMMAND_LINE)

    assert_invalid_token(
        await me(client, f"Bearer {secret.group(0)}"), "The access token was revoked."
    )
    assert (await client.get("/settings/account")).status_code == 303  # the session ended
    refused = await submit(client, "/login", email="ann@example.com", password=PASSWORD)
    assert refused.status_code == 400 and "Incorrect email or password." in refused.text

    async with app.paced.database.unit_of_work() as store:
        await account_status.enable(store, "ann@example.com", clock(), origin=COMMAND_LINE)
    assert (await me(client, f"Bearer {secret.group(0)}")).status_code == 200
    assert (
        await submit(client, "/login", email="ann@example.com", password=PASSWORD)
    ).status_code == 303


async def test_a_disabled_account_gets_no_reset_mail(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(client, password=PASSWORD)
    async with app.paced.database.unit_of_work() as store:
        await account_status.disable(store, "ann@example.com", clock(), origin=COMMAND_LINE)
    asked, _ = await ask_reset(client, "ann@example.com")
    assert asked.status_code == 303 and await mails(app, "password_reset") == []


@pytest.fixture
async def strict_app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings.model_copy(update={"rate_limit_login_per_account": "3/hour"}), clock=clock
    )
    yield app
    await app.paced.rate_limits.aclose()
    await app.paced.database.close()


async def test_unlock_clears_the_accounts_failed_sign_in_limit(
    strict_app: FastAPI, clock: Clock
) -> None:
    async with other_browser(strict_app) as http:
        await sign_up(http, password=PASSWORD)
        http.cookies.clear()
        for _ in range(3):
            await submit(http, "/login", email="ann@example.com", password="wrong guess")
        locked = await submit(http, "/login", email="ann@example.com", password=PASSWORD)
        assert locked.status_code == 429
        async with strict_app.paced.database.unit_of_work() as store:
            await account_status.unlock(store, "ann@example.com", clock(), origin=COMMAND_LINE)
        opened = await submit(http, "/login", email="ann@example.com", password=PASSWORD)
        assert opened.status_code == 303
    assert "account_unlocked" in await event_names(strict_app)


async def test_disabling_ends_the_accounts_oauth_grants_at_once(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    engine = app.paced.database
    user = await add_user(engine, clock())
    oauth = await add_oauth_token(engine, user, clock())
    assert (await me(client, f"Bearer {oauth.secret}")).status_code == 200
    async with engine.unit_of_work() as store:
        await account_status.disable(store, user.email, clock(), origin=COMMAND_LINE)
    assert_invalid_token(
        await me(client, f"Bearer {oauth.secret}"), "The access token was revoked."
    )
    async with engine.reading() as store:
        revoked = (
            await store.connection.execute(
                select(grants.c.revoked_at).where(grants.c.id == oauth.grant_id)
            )
        ).scalar()
    assert revoked == clock()
