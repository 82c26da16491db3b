"""The security log: every event recorded by the action that causes it, with who, from where
and when; and /settings/security-log, where a person reads their own."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from paced.core import security_log, token_format
from paced.core.records import SecurityEvent
from paced.core.security_log import Origin
from paced.storage.database import Database
from paced.storage.security_log import AuditQuery
from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit
from tests.oauth_helpers import add_client, add_code, add_user
from tests.web.test_applications import client_id_of, register
from tests.web.test_authorize import CHALLENGE, decide
from tests.web.test_oauth_token import exchange_form

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
PASSWORD = "correct horse battery"
REDIRECT = "https://zapier.example/cb"


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


@pytest.fixture
def http(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["user-agent"] = BROWSER
    return client


async def events(app: FastAPI, **query: str) -> list[SecurityEvent]:
    async with engine_of(app).reading() as store:
        return [event async for event, _ in store.audit(AuditQuery(**query))]


async def names(app: FastAPI) -> list[str]:
    return [event.event for event in await events(app)]


async def user_id(app: FastAPI, email: str = "ann@example.com") -> str:
    async with engine_of(app).reading() as store:
        user = await store.user_by_email(email)
    assert user is not None
    return user.id


def assert_from_the_browser(event: SecurityEvent) -> None:
    assert (event.ip, event.user_agent) == ("127.0.0.1", BROWSER)


# --- What is recorded -----------------------------------------------------------------------


async def test_sign_ups_and_sign_ins_ok_and_failed_are_recorded(
    http: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(http, password=PASSWORD)
    ann = await user_id(app)
    http.cookies.clear()
    clock.advance(minutes=1)
    assert (
        await submit(http, "/login", email="ann@example.com", password="nope!")
    ).status_code == 400
    assert (
        await submit(http, "/login", email="bob@example.com", password="nope!")
    ).status_code == 400
    # A password typed into the email box is not kept.
    typed = await submit(http, "/login", email="hunter2 secret", password="")
    assert typed.status_code == 400
    ok = await submit(http, "/login", email="ANN@example.com", password=PASSWORD)
    assert ok.status_code == 303
    recorded = await events(app)
    assert [(e.event, e.user_id, e.actor, dict(e.detail)) for e in recorded] == [
        ("account_created", ann, ann, {}),
        ("sign_in_failed", ann, "anonymous", {}),
        ("sign_in_failed", None, "anonymous", {"email": "bob@example.com"}),
        ("sign_in_failed", None, "anonymous", {"email": ""}),
        ("sign_in", ann, ann, {}),
    ]
    for event in recorded:
        assert_from_the_browser(event)
    assert recorded[0].created_at == clock.now - timedelta(minutes=1)
    assert recorded[-1].created_at == clock.now
    assert "hunter2" not in json.dumps([dict(e.detail) for e in recorded])


async def test_a_password_change_is_recorded(http: httpx.AsyncClient, app: FastAPI) -> None:
    await sign_up(http, password=PASSWORD)
    response = await submit(
        http,
        "/settings/account",
        "/settings/account/password",
        current_password=PASSWORD,
        new_password="a new password",
    )
    assert response.status_code == 303
    (changed,) = await events(app, event="password_changed")
    assert changed.user_id == await user_id(app)
    assert_from_the_browser(changed)


async def test_personal_tokens_created_and_revoked_are_recorded_without_their_secret(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(http)
    created = await submit(
        http, "/settings/developer/tokens/new", name="backup", scopes=["read"], expiration="30"
    )
    assert created.status_code == 303
    shown = await http.get(created.headers["location"])
    secret = re.search(r"pt_secret_[0-9A-Za-z]{36}", shown.text)
    assert secret
    (made,) = await events(app, event="personal_token_created")
    token_id = made.detail["token_id"]
    assert isinstance(token_id, str)
    revoked = await submit(
        http,
        f"/settings/developer/tokens/{token_id}/revoke",
    )
    assert revoked.status_code == 303
    ann = await user_id(app)
    recorded = await events(app)
    assert [(e.event, e.user_id, e.actor) for e in recorded[1:]] == [
        ("personal_token_created", ann, ann),
        ("personal_token_revoked", ann, ann),
    ]
    hint = token_format.hint(secret.group(0))
    assert dict(recorded[1].detail) == {
        "token_id": token_id,
        "name": "backup",
        "scopes": ["read"],
        "hint": hint,
    }
    assert recorded[2].detail["hint"] == hint
    # The page names the token by its hint, so that its owner can tell which one it was.
    log = (await http.get("/settings/security-log")).text
    assert log.count(hint) == 2
    assert secret.group(0) not in json.dumps([dict(e.detail) for e in recorded])
    for event in recorded:
        assert_from_the_browser(event)


async def test_an_apps_life_is_recorded_in_its_owners_log(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(http)
    page, first_secret = await register(http, redirect_uris=REDIRECT)
    assert first_secret is not None
    app_id = page.rsplit("/", 1)[1]
    client_id = await client_id_of(http, page)
    edited = await submit(
        http, page, name="Zapier", redirect_uris=f"{REDIRECT}\nhttps://evil.example/cb"
    )
    assert edited.status_code == 303
    renamed = await submit(
        http, page, name="Zapier 2", redirect_uris=f"{REDIRECT}\nhttps://evil.example/cb"
    )
    assert renamed.status_code == 303  # a new name alone is no security event
    new_secret = await submit(http, page, f"{page}/secrets")
    assert new_secret.status_code == 303
    second_secret = re.search(r"pt_client_[0-9A-Za-z]{36}", (await http.get(page)).text)
    assert second_secret
    (created,) = await events(app, event="client_secret_created")
    secret_id = created.detail["secret_id"]
    deleted_secret = await submit(
        http, f"{page}/secrets/{secret_id}/delete", f"{page}/secrets/{secret_id}/delete"
    )
    assert deleted_secret.status_code == 303
    deleted = await submit(http, f"{page}/delete")
    assert deleted.status_code == 303
    ann = await user_id(app)
    recorded = (await events(app))[1:]
    assert [(e.event, e.user_id, e.actor) for e in recorded] == [
        ("app_created", ann, ann),
        ("app_redirect_uris_changed", ann, ann),
        ("client_secret_created", ann, ann),
        ("client_secret_deleted", ann, ann),
        ("app_deleted", ann, ann),
    ]
    assert recorded[0].detail == {
        "app_id": app_id,
        "name": "Zapier",
        "client_id": client_id,
        "redirect_uris": [REDIRECT],
        "hint": token_format.hint(first_secret),
    }
    assert recorded[2].detail["hint"] == token_format.hint(second_secret.group(0))
    assert recorded[3].detail["hint"] == token_format.hint(second_secret.group(0))
    assert recorded[1].detail["redirect_uris"] == [REDIRECT, "https://evil.example/cb"]
    assert recorded[-1].detail["name"] == "Zapier 2"
    text = json.dumps([dict(e.detail) for e in recorded])
    assert first_secret not in text and second_secret.group(0) not in text
    for event in recorded:
        assert_from_the_browser(event)


async def test_approving_an_app_and_revoking_it_on_the_page_are_recorded(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(http)
    page, _ = await register(http, redirect_uris=REDIRECT)
    client_id = await client_id_of(http, page)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "read",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    consent = await http.get("/oauth/authorize?" + urlencode(query))
    approved = await decide(http, consent, "approve")
    code = dict(parse_qsl(urlsplit(approved.headers["location"]).query))["code"]
    app_id = page.rsplit("/", 1)[1]
    revoke_page = f"/settings/authorized-applications/{app_id}/revoke"
    assert (await submit(http, revoke_page)).status_code == 303
    ann = await user_id(app)
    granted, revoked = await events(app, event="grant_approved") + await events(
        app, event="grant_revoked"
    )
    assert (granted.user_id, granted.actor, revoked.user_id, revoked.actor) == (ann, ann, ann, ann)
    grant_id = granted.detail["grant_id"]
    assert isinstance(grant_id, str) and grant_id.startswith("grant_")
    assert granted.detail == {
        "grant_id": grant_id,
        "app_id": app_id,
        "name": "Zapier",
        "client_id": client_id,
        "scopes": ["read"],
    }
    assert revoked.detail == {"app_id": app_id, "name": "Zapier", "client_id": client_id}
    assert code not in json.dumps([dict(granted.detail), dict(revoked.detail)])
    assert_from_the_browser(granted)
    assert_from_the_browser(revoked)


async def test_a_replayed_code_is_recorded_with_the_grant_it_revoked(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    code = await add_code(engine_of(app), zapier, ann)
    first = await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))
    assert first.status_code == 200
    replay = await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))
    assert replay.status_code == 400  # the request fails; its record stays
    (replayed,) = await events(app)
    assert (replayed.event, replayed.user_id, replayed.actor) == (
        "authorization_code_replayed",
        ann.id,
        zapier.client_id,
    )
    assert replayed.detail["grant_id"] == code.grant_id
    assert replayed.detail["app_id"] == zapier.app_id
    assert_from_the_browser(replayed)


async def test_a_reused_refresh_token_is_recorded_with_the_grant_it_revoked(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    code = await add_code(engine_of(app), zapier, ann)
    tokens = (await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert (await http.post("/oauth/token", data={**refresh, **zapier.form()})).status_code == 200
    reused = await http.post("/oauth/token", data={**refresh, **zapier.form()})
    assert reused.status_code == 400
    (event,) = await events(app)
    assert (event.event, event.user_id, event.actor) == (
        "refresh_token_reused",
        ann.id,
        zapier.client_id,
    )
    assert event.detail == {
        "grant_id": code.grant_id,
        "app_id": zapier.app_id,
        "name": "Zapier",
        "client_id": zapier.client_id,
    }
    assert tokens["refresh_token"] not in json.dumps(dict(event.detail))


async def test_a_client_revoking_its_refresh_token_is_recorded_as_the_grant_revoked(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    code = await add_code(engine_of(app), zapier, ann)
    tokens = (await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))).json()
    for _ in range(2):  # the second revocation changes nothing and records nothing
        response = await http.post(
            "/oauth/revoke", data={"token": tokens["refresh_token"], **zapier.form()}
        )
        assert response.status_code == 200
    (event,) = await events(app)
    assert (event.event, event.user_id, event.actor, event.detail["grant_id"]) == (
        "grant_revoked",
        ann.id,
        zapier.client_id,
        code.grant_id,
    )


# --- /settings/security-log -----------------------------------------------------------------


async def test_signed_out_visitors_are_sent_to_sign_in(http: httpx.AsyncClient) -> None:
    response = await http.get("/settings/security-log")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/security-log"


async def test_the_page_shows_the_accounts_events_newest_first_in_plain_words(
    http: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(http, password=PASSWORD)
    clock.advance(minutes=5)
    made = await submit(
        http,
        "/settings/developer/tokens/new",
        name="backup",
        scopes=["read", "write"],
        expiration="30",
    )
    assert made.status_code == 303
    # Someone else's events are not shown.
    other = httpx.AsyncClient(transport=http._transport, base_url="http://testserver")
    await sign_up(other, email="mallory@example.com", name="Mallory")
    await submit(other, "/login", email="ann@example.com", password="guess!!")
    page = await http.get("/settings/security-log")
    assert page.status_code == 200
    text = page.text
    order = [
        text.index("Failed sign-in"),
        text.index("Personal access token created"),
        text.index("Account created"),
    ]
    assert order == sorted(order)
    assert "\u201cbackup\u201d" in text and "scopes: read, write" in text
    assert "Mallory" not in text and "mallory@example.com" not in text.split("</header>")[1]
    assert "127.0.0.1" in text and BROWSER[:40] in text
    assert '<time datetime="2026-01-15T12:05:00Z"' in text
    assert ">You<" in text and ">Someone<" in text  # who failed to sign in as Ann is unknown
    assert 'class="alarm"' in text


async def test_the_page_is_paginated(http: httpx.AsyncClient, app: FastAPI, clock: Clock) -> None:
    await sign_up(http)
    ann = await user_id(app)
    async with engine_of(app).unit_of_work() as store:
        for n in range(60):
            await security_log.record(
                store,
                "sign_in",
                clock.now + timedelta(seconds=n),
                Origin(ip=f"192.0.2.{n}", user_agent="agent"),
                user_id=ann,
            )
    first = (await http.get("/settings/security-log")).text
    assert first.count("<tr") == 51  # a header row and 50 events
    assert "192.0.2.59<" in first and "192.0.2.10<" in first and "192.0.2.9<" not in first
    assert 'href="/settings/security-log?page=2"' in first and "Newer events" not in first
    second = (await http.get("/settings/security-log?page=2")).text
    assert second.count("<tr") == 12  # the 10 oldest sign-ins and the account's creation
    assert "Account created" in second
    assert 'href="/settings/security-log"' in second and "Older events" not in second
    beyond = await http.get("/settings/security-log?page=9")
    assert beyond.status_code == 200 and "There are no older events" in beyond.text
    assert (await http.get("/settings/security-log?page=0")).status_code == 400


async def test_the_account_page_links_to_the_security_log(http: httpx.AsyncClient) -> None:
    await sign_up(http)
    page = await http.get("/settings/account")
    assert 'href="/settings/security-log"' in page.text


async def test_an_operators_action_is_shown_as_such(
    http: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    await sign_up(http)
    async with engine_of(app).unit_of_work() as store:
        await security_log.record(
            store,
            "personal_token_revoked",
            clock(),
            security_log.COMMAND_LINE,
            user_id=await user_id(app),
            detail={"token_id": "pat_x", "name": "laptop", "scopes": ["read"]},
        )
    page = (await http.get("/settings/security-log")).text
    assert "An operator" in page and "paced command line" in page
    assert csrf_token(page)  # the header's sign-out form is there
