"""`POST /api/v1/credentials/revoke` over HTTP: leaked credentials reported by anyone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from paced.core import token_format
from paced.core.records import User
from paced.settings import Settings
from paced.storage.database import Database
from paced.web.app import create_app
from tests.conftest import Clock
from tests.oauth_helpers import rows
from tests.token_rows import add_oauth_token, add_personal_token, add_user

PATH = "/api/v1/credentials/revoke"


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


@pytest.fixture
async def user(app: FastAPI, clock: Clock) -> User:
    return await add_user(engine_of(app), clock())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_reported_token_is_dead_on_the_next_request(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    personal = (await add_personal_token(engine_of(app), user, clock())).secret
    oauth = (await add_oauth_token(engine_of(app), user, clock())).secret
    for token in (personal, oauth):
        assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    response = await client.post(PATH, json={"credentials": [personal, oauth]})
    assert response.status_code == 202
    assert response.json() == {}
    assert response.headers["cache-control"] == "no-store"
    for token in (personal, oauth):
        refused = await client.get("/api/v1/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"


async def test_the_owner_sees_the_hint_in_the_security_log(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    personal = (await add_personal_token(engine_of(app), user, clock())).secret
    response = await client.post(
        PATH, json={"credentials": [personal]}, headers={"User-Agent": "scanner/1.0"}
    )
    assert response.status_code == 202
    events = [
        e
        for e in await rows(engine_of(app), "security_events", user_id=user.id)
        if e["event"] == "credential_leaked"
    ]
    assert len(events) == 1
    assert events[0]["user_agent"] == "scanner/1.0"
    assert personal not in str(events[0]["detail"])


async def test_the_answer_is_the_same_whatever_was_found(
    client: httpx.AsyncClient, app: FastAPI, user: User, clock: Clock
) -> None:
    live = (await add_personal_token(engine_of(app), user, clock())).secret
    answers = [
        await client.post(PATH, json={"credentials": credentials})
        for credentials in (
            [live],
            [live],  # revoked now
            [token_format.generate(token_format.PERSONAL)],  # unknown
            ["pt_secret_" + "0" * 36],  # a bad checksum
            ["hello"],
            [],
        )
    ]
    assert {(a.status_code, a.content) for a in answers} == {(202, b"{}")}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"credentials=pt_secret_x", "application/x-www-form-urlencoded"),
        (b"[]", "application/json"),
        (b'{"credentials": [1, 2]}', "application/json"),
        (b'{"tokens": []}', "application/json"),
        (("[" + ",".join(['"x"'] * 1001) + "]").encode(), "application/json"),
        (b'{"credentials": [' + b",".join([b'"x"'] * 1001) + b"]}", "application/json"),
    ],
    ids=[
        "a form, not JSON",
        "not an object",
        "numbers, not strings",
        "no credentials list",
        "a bare list",
        "over a thousand",
    ],
)
async def test_a_malformed_body_is_400_in_the_api_shape(
    client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    response = await client.post(PATH, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"


async def test_only_post_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH)
    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
async def strict_app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings.model_copy(update={"rate_limit_credential_reports_per_ip": "3/minute"}),
        clock=clock,
    )
    try:
        yield application
    finally:
        await application.paced.rate_limits.aclose()
        await application.paced.database.close()


async def test_reports_are_limited_per_address(strict_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        statuses = [(await http.post(PATH, json={"credentials": []})).status_code for _ in range(3)]
        assert statuses == [202, 202, 202]
        refused = await http.post(PATH, json={"credentials": []})
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert set(refused.json()) == {"error", "error_description"}
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["cache-control"] == "no-store"


def test_the_default_limit_is_sixty_a_minute() -> None:
    assert Settings(_env_file=None).rate_limit_credential_reports_per_ip == "60/minute"


async def test_the_endpoint_is_documented_with_its_errors(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"][PATH]["post"]
    assert {"202", "400", "413", "429", "503"} <= set(operation["responses"])
    assert "security" not in operation  # no authentication
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["credentials"]["maxItems"] == 1000
