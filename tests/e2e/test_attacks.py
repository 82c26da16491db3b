"""The rate-limit findings of the outside audit (docs/security.md), tried as the attacker
tried them: many requests at once against a real `paced serve`, on each database.

- Thirty wrong passwords sent together meet the per-account limit of ten: ten are checked
  and fail, the others are refused unchecked.
- Wrong secrets sent together under another client's id leave the real client with its
  right secret served on all three endpoints, even from the attacker's own address
  (both are 127.0.0.1 here): only the address's own failure limit could stop it, and
  forty failures stay under that.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from paced.core import token_format
from paced.storage.database import open_database
from tests.databases import run_sync
from tests.e2e.server import paced_serve
from tests.helpers import csrf_token
from tests.oauth_helpers import Client, add_client, add_user

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


def signed_up(base: str) -> None:
    with httpx.Client(base_url=base) as http:
        token = csrf_token(http.get("/signup").text)
        response = http.post(
            "/signup",
            data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD},
        )
        assert response.status_code == 303, response.text


async def guess_together(base: str, guesses: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = csrf_token((await http.get("/login")).text)

        async def guess(n: int) -> int:
            form = {"csrf_token": token, "email": "ann@example.com", "password": f"guess {n}"}
            return (await http.post("/login", data=form)).status_code

        return list(await asyncio.gather(*(guess(n) for n in range(guesses))))


def test_concurrent_wrong_passwords_are_held_to_the_account_limit(
    database_url: str, tmp_path: Path
) -> None:
    # A slow hash, as in production: the window the audit raced through is its length.
    slow = {"PACED_PASSWORD_TIME_COST": "3", "PACED_PASSWORD_MEMORY_KIB": "65536"}
    with paced_serve(database_url, tmp_path, env=slow) as base:
        signed_up(base)
        statuses = asyncio.run(guess_together(base, 30))
    assert sorted(statuses) == [400] * 10 + [429] * 20


def test_wrong_secrets_under_a_client_id_do_not_lock_the_client_out(
    database_url: str, tmp_path: Path
) -> None:
    clients: list[Client] = []

    async def seed() -> None:
        engine = open_database(database_url)
        try:
            clients.append(await add_client(engine, await add_user(engine)))
        finally:
            await engine.close()

    run_sync(seed())
    (zapier,) = clients

    async def attack(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:

            async def junk(n: int) -> int:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": "pt_refresh_unknown",
                    "token": "x",
                    "client_id": zapier.client_id,
                    "client_secret": token_format.generate(token_format.CLIENT_SECRET),
                }
                endpoint = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")[n % 3]
                return (await http.post(endpoint, data=form)).status_code

            return list(await asyncio.gather(*(junk(n) for n in range(40))))

    with paced_serve(database_url, tmp_path) as base:
        statuses = asyncio.run(attack(base))
        # Every one failed; those past the client id's limit of 20 were told to wait.
        assert set(statuses) <= {400, 401, 429} and 429 in statuses
        with httpx.Client(base_url=base) as integration:
            for endpoint in ("/oauth/revoke", "/oauth/introspect"):
                response = integration.post(endpoint, data={"token": "x", **zapier.form()})
                assert response.status_code == 200, (endpoint, response.text)
            refresh = {"grant_type": "refresh_token", "refresh_token": "pt_refresh_unknown"}
            response = integration.post("/oauth/token", data={**refresh, **zapier.form()})
            # Authenticated, then refused for its grant: not for the stranger's failures.
            assert response.json()["error"] == "invalid_grant", response.text
