"""paced.web.errors: a database that cannot be reached is a 503 with `Retry-After` in each
endpoint's shape; a value the database cannot hold is a 400; other database errors stay
500. (tests/e2e/test_faults.py takes a real server's database away and gives it back.)"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from paced.core import token_format
from paced.settings import Settings
from paced.web.app import create_app
from tests.databases import migrate
from tests.helpers import CHEAP_HASHING, csrf_token

MESSAGE = "The service is temporarily unavailable. Try again in a moment."


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def unreachable(closed_port: int) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,
        database_url=f"postgresql://paced@127.0.0.1:{closed_port}/paced",
        base_url="http://testserver",
        secret_key="test-secret-key-for-paced-tests-only",
        **CHEAP_HASHING,
    )
    app = create_app(settings)
    async with await client_of(app) as http:
        yield http
    await app.paced.database.close()


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"error": code, "error_description": MESSAGE}


async def test_with_the_database_unreachable_every_endpoint_answers_503(
    unreachable: httpx.AsyncClient,
) -> None:
    token = token_format.generate("pt_secret_")
    me = await unreachable.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_unavailable(me, "service_unavailable")
    form = {"grant_type": "refresh_token", "client_id": "abc"}
    assert_unavailable(await unreachable.post("/oauth/token", data=form), "temporarily_unavailable")
    revoked = await unreachable.post("/oauth/revoke", data={"token": "t", "client_id": "abc"})
    assert_unavailable(revoked, "temporarily_unavailable")
    login = await unreachable.get("/login")  # no session: no database needed
    assert login.status_code == 200
    page = await unreachable.post(
        "/login",
        data={"csrf_token": csrf_token(login.text), "email": "a@b.co", "password": "x" * 10},
    )
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "Temporarily unavailable" in page.text
    authorize = await unreachable.get("/oauth/authorize?client_id=abc&response_type=code")
    assert authorize.status_code == 503
    assert "location" not in authorize.headers
    ready = await unreachable.get("/readyz")
    assert ready.status_code == 503


async def test_a_locked_sqlite_database_answers_writes_with_503(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{database}",
        base_url="http://testserver",
        secret_key="test-secret-key-for-paced-tests-only",
        db_timeout=0.2,
        **CHEAP_HASHING,
    )
    migrate(settings.database_url)
    app = create_app(settings)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        async with await client_of(app) as http:
            holder.execute("BEGIN EXCLUSIVE")
            form = {"grant_type": "refresh_token", "client_id": "abc"}
            response = await http.post("/oauth/token", data=form)
            assert_unavailable(response, "temporarily_unavailable")
            holder.execute("ROLLBACK")
            again = await http.post("/oauth/token", data=form)
            assert again.status_code == 401  # served again: an unknown client
    finally:
        holder.close()
        await app.paced.database.close()


async def test_an_unknown_api_path_answers_like_an_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert "go back" not in body["error_description"].lower()
    assert "/openapi.json" in body["error_description"]
    page = await client.get("/nothing-here")  # a page keeps the words for people
    assert page.status_code == 404 and "go back" in page.text
