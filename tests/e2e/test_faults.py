"""Faults a real `paced serve` must survive (docs/operations.md).

- SIGKILL in the middle of a load of code exchanges and refreshes, then a restart on the
  same database: the database is intact, every token whose issuance was answered works,
  and no code or refresh token is accepted twice, before the kill and after it together.
- The database going away: requests get 503 with `Retry-After` in their endpoint's shape,
  and service resumes by itself once it is back, without a restart. PostgreSQL is taken
  away behind a TCP proxy that the test cuts; an SQLite file cannot vanish from under
  open connections, so there another process holds its write lock instead.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from paced.storage.database import open_database
from tests.databases import run_sync
from tests.e2e.server import paced_node, paced_serve
from tests.helpers import csrf_token
from tests.oauth_helpers import (
    REDIRECT,
    VERIFIER,
    Client,
    Person,
    add_client,
    add_code,
    exchange_code,
)
from tests.tcp_proxy import TcpProxy, tcp_proxy
from tests.token_rows import add_personal_token, add_user

pytestmark = pytest.mark.e2e

CODES = 60
REFRESHES = 4  # per code: a chain of rotations
CONCURRENCY = 12
KILL_AFTER = 50  # answered requests


@dataclass
class Seeded:
    client: Client
    codes: list[str]
    personal_token: str = ""
    refresh_token: str = ""


def seed(database_url: str, codes: int) -> Seeded:
    """A user, a confidential client and `codes` fresh authorization codes."""
    found: list[Seeded] = []

    async def run() -> None:
        engine = open_database(database_url)
        now = datetime.now(UTC)
        try:
            user = await add_user(engine, now)
            ann = Person(user.id, user.email)
            client = await add_client(engine, ann)
            made = [await add_code(engine, client, ann, when=now) for _ in range(codes)]
            personal = await add_personal_token(engine, user, now)
            spare = await add_code(engine, client, ann, when=now)
            issued = await exchange_code(engine, client, spare, when=now)
        finally:
            await engine.close()
        found.append(
            Seeded(client, [code.code for code in made], personal.secret, issued.refresh_token)
        )

    run_sync(run())
    return found[0]


# --- SIGKILL under load -----------------------------------------------------------------------


@dataclass
class Ledger:
    """Every credential sent, and what came back: a status, or None when no answer came."""

    sent: dict[str, list[int | None]] = field(default_factory=dict)
    access_tokens: list[str] = field(default_factory=list)
    unsent_refresh_tokens: set[str] = field(default_factory=set)
    answered: int = 0
    in_flight: int = 0

    def successes(self, credential: str) -> int:
        return self.sent.get(credential, []).count(200)


async def load(base: str, client: Client, codes: list[str], ledger: Ledger) -> None:
    """Exchange each code, then rotate its refresh token a few times, CONCURRENCY at once,
    until the codes run out or the server stops answering."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in codes:
        queue.put_nowait(code)
    timeout = httpx.Timeout(5, connect=1)

    async def post(
        http: httpx.AsyncClient, credential: str, form: dict[str, str]
    ) -> dict[str, Any] | None:
        outcomes = ledger.sent.setdefault(credential, [])
        ledger.in_flight += 1
        try:
            response = await http.post("/oauth/token", data={**form, **client.form()})
        except httpx.TransportError:
            outcomes.append(None)
            return None
        finally:
            ledger.in_flight -= 1
        outcomes.append(response.status_code)
        ledger.answered += 1
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        ledger.access_tokens.append(body["access_token"])
        ledger.unsent_refresh_tokens.add(body["refresh_token"])
        return body

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            code = queue.get_nowait()
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
            body = await post(http, code, {**form, "code_verifier": VERIFIER})
            for _ in range(REFRESHES):
                if body is None:
                    break
                refresh = body["refresh_token"]
                ledger.unsent_refresh_tokens.discard(refresh)
                body = await post(
                    http, refresh, {"grant_type": "refresh_token", "refresh_token": refresh}
                )

    async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))


def assert_intact(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(make_url(database_url).database or "") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return

    async def check() -> None:
        dsn = make_url(database_url).set(drivername="postgresql")
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            # Heap and B-trees agree, every tuple indexed (amcheck raises on corruption).
            checked = await connection.fetchval(
                "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE a.amname = 'btree' AND n.nspname = 'public'"
            )
            assert checked > 0
        finally:
            await connection.close()

    run_sync(check())


def test_a_sigkill_under_load_loses_nothing_that_was_answered(
    database_url: str, tmp_path: Path
) -> None:
    seeded = seed(database_url, CODES)
    ledger = Ledger()
    with paced_node(database_url, tmp_path) as node:
        loader = threading.Thread(
            target=asyncio.run, args=(load(node.base, seeded.client, seeded.codes, ledger),)
        )
        loader.start()
        deadline = time.monotonic() + 30
        while ledger.answered < KILL_AFTER and loader.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        node.process.send_signal(signal.SIGKILL)
        in_flight = ledger.in_flight
        node.process.wait(timeout=10)
        loader.join(timeout=60)
    assert not loader.is_alive()
    unanswered = [credential for credential, outcomes in ledger.sent.items() if None in outcomes]
    assert ledger.answered >= KILL_AFTER
    assert in_flight > 0, "the kill came between requests: nothing was in flight"
    statuses = {status for outcomes in ledger.sent.values() for status in outcomes}
    assert statuses <= {200, 400, None}, statuses

    assert_intact(database_url)
    with paced_serve(database_url, tmp_path) as base, httpx.Client(base_url=base) as http:
        # Every access token that was answered works after the restart.
        for token in ledger.access_tokens:
            me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, (token, me.text)
        # So does every answered refresh token that was never presented.
        form = seeded.client.form()
        for refresh in sorted(ledger.unsent_refresh_tokens):
            answer = http.post(
                "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh, **form},
            )
            assert answer.status_code == 200, answer.text
        # Every code and refresh token that was sent, answered or not, is presented again:
        # whatever happened before the kill, each is accepted at most once in all.
        again: Counter[str] = Counter()
        for credential in ledger.sent:
            if credential.startswith("pt_refresh_"):
                data = {"grant_type": "refresh_token", "refresh_token": credential}
            else:
                data = {
                    "grant_type": "authorization_code",
                    "code": credential,
                    "redirect_uri": REDIRECT,
                    "code_verifier": VERIFIER,
                }
            answer = http.post("/oauth/token", data={**data, **form})
            assert answer.status_code in (200, 400), answer.text
            again[credential] += answer.status_code == 200
        for credential in ledger.sent:
            assert ledger.successes(credential) + again[credential] <= 1, credential
        # A credential whose answer was lost is either spent or still good: never lost twice.
        assert sum(again[credential] for credential in unanswered) <= len(unanswered)
    assert_intact(database_url)


# --- the database goes away -------------------------------------------------------------------


def unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "error": code,
        "error_description": "The service is temporarily unavailable. Try again in a moment.",
    }


def eventually_ok(call: Callable[[], httpx.Response], *, seconds: float = 15) -> httpx.Response:
    """The first answer that is not a 503 within `seconds` (a request may still find a
    connection that died with the outage, which SQLAlchemy then replaces)."""
    deadline = time.monotonic() + seconds
    while True:
        response = call()
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


class WriteLock:
    """Another process's hold on an SQLite database's write lock (WAL: readers go on)."""

    def __init__(self, database_url: str) -> None:
        path = make_url(database_url).database or ""
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=5)

    def cut(self) -> None:
        self.connection.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


@contextmanager
def database_outage(database_url: str) -> Iterator[tuple[str, WriteLock | TcpProxy]]:
    """The URL the server should use, and what takes its database away and back."""
    if database_url.startswith("sqlite"):
        yield database_url, WriteLock(database_url)
        return
    url = make_url(database_url)
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy


def test_without_its_database_the_service_answers_503_and_recovers_by_itself(
    database_url: str, tmp_path: Path
) -> None:
    seeded = seed(database_url, 0)
    sqlite = database_url.startswith("sqlite")
    bearer = {"Authorization": f"Bearer {seeded.personal_token}"}
    with (
        database_outage(database_url) as (served_url, outage),
        paced_serve(served_url, tmp_path, env={"PACED_DB_TIMEOUT": "1"}) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        current = seeded.refresh_token

        def refresh() -> httpx.Response:
            data = {"grant_type": "refresh_token", "refresh_token": current}
            return http.post("/oauth/token", data={**data, **seeded.client.form()})

        def log_in() -> httpx.Response:
            data = {"email": "ann@example.com", "password": "not her password"}
            return http.post("/login", data={"csrf_token": form_token, **data})

        form_token = csrf_token(http.get("/login").text)
        assert http.get("/api/v1/me", headers=bearer).status_code == 200
        assert http.get("/readyz").status_code == 200

        outage.cut()
        try:
            unavailable(refresh(), "temporarily_unavailable")
            page = log_in()
            assert page.status_code == 503
            assert page.headers["retry-after"] == "5"
            assert "Temporarily unavailable" in page.text
            if sqlite:
                # Readers go on in WAL mode while another process holds the write lock:
                # the database is there, only busy.
                assert http.get("/readyz").status_code == 200
            else:
                unavailable(http.get("/api/v1/me", headers=bearer), "service_unavailable")
                ready = http.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["error"] == "database_unavailable"
        finally:
            outage.restore()

        # Back, with no restart: the refresh token untouched by the failed attempt works.
        answer = eventually_ok(refresh)
        assert answer.status_code == 200, answer.text
        current = answer.json()["refresh_token"]
        assert refresh().status_code == 200
        assert eventually_ok(lambda: http.get("/api/v1/me", headers=bearer)).status_code == 200
        assert log_in().status_code == 400  # a wrong password, answered again
        assert http.get("/readyz").status_code == 200
