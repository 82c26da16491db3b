"""The counters move where the web edge sees things happen (paced.web.metrics)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from paced.core import token_format
from paced.core.errors import RateLimited
from paced.settings import Settings
from paced.storage.database import Database
from tests.helpers import sign_up, submit
from tests.oauth_helpers import REDIRECT, VERIFIER, Client, add_client, add_code, add_user

SECRET = re.compile(r"pt_secret_[0-9A-Za-z]{36}")
TOKEN_ID = re.compile(r"/settings/developer/tokens/(pat_[0-9A-Za-z]{24})/revoke")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


Sample = tuple[str, dict[str, str]]


def value(sample: Sample) -> float:
    name, labels = sample
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Samples read before a block, to say afterwards how far each moved."""

    def __init__(self, samples: tuple[Sample, ...]) -> None:
        self.before = [(sample, value(sample)) for sample in samples]

    def moved(self, sample: Sample) -> float:
        return value(sample) - next(start for seen, start in self.before if seen == sample)


@contextmanager
def counting(app: FastAPI, *samples: Sample) -> Iterator[Counts]:
    """The block's requests, counted: the app counts them off the loop, a batch at a time
    (paced.web.answered), so what is pending is counted before the block ends."""
    counts = Counts(samples)
    yield counts
    app.state.answered.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Metrics on: with them off, nothing is counted."""
    return settings.model_copy(update={"metrics_port": 9100})


def issued(kind: str) -> Sample:
    return "paced_tokens_issued_total", {"kind": kind}


def revoked(kind: str) -> Sample:
    return "paced_tokens_revoked_total", {"kind": kind}


def failed(kind: str, reason: str) -> Sample:
    return "paced_auth_failures_total", {"kind": kind, "reason": reason}


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


async def test_personal_tokens_made_and_revoked_on_the_pages_are_counted(
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    with counting(
        app,
        issued("personal_access_token"),
        revoked("personal_access_token"),
        failed("bearer", "revoked"),
    ) as counts:
        created = await submit(
            client, "/settings/developer/tokens/new", name="ci", scopes=["read"], expiration="30"
        )
        secret = SECRET.findall((await client.get(created.headers["location"])).text)[0]
        token_id = TOKEN_ID.findall((await client.get("/settings/developer")).text)[0]
        revoke = f"/settings/developer/tokens/{token_id}/revoke"
        assert (await submit(client, revoke)).status_code == 303
        refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert counts.moved(issued("personal_access_token")) == 1
    assert counts.moved(revoked("personal_access_token")) == 1
    assert counts.moved(failed("bearer", "revoked")) == 1


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing"),
        ("Bearer", "invalid_request"),
        ("Bearer pt_secret_" + "A" * 36, "malformed"),
        ("Bearer " + token_format.generate(token_format.PERSONAL), "unknown"),
    ],
    ids=["no header", "a header without a token", "a bad checksum", "a token nobody issued"],
)
async def test_refused_bearer_tokens_are_counted_by_reason(
    app: FastAPI, client: httpx.AsyncClient, authorization: str | None, reason: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with counting(app, failed("bearer", reason)) as counts:
        response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code in (400, 401)
    assert counts.moved(failed("bearer", reason)) == 1


async def test_a_failed_login_and_a_missing_csrf_token_are_counted(
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    with counting(app, failed("login", "bad_credentials"), failed("csrf", "csrf_failed")) as counts:
        login = await submit(client, "/login", email="nobody@example.com", password="x" * 12)
        forged = await client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert (login.status_code, forged.status_code) == (400, 403)
    assert counts.moved(failed("login", "bad_credentials")) == 1
    assert counts.moved(failed("csrf", "csrf_failed")) == 1


async def test_an_approval_issues_a_code_and_its_exchange_issues_two_tokens(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    zapier = await add_client(engine_of(app), await add_user(engine_of(app), "olivia@example.com"))
    with counting(
        app,
        issued("authorization_code"),
        issued("oauth_access_token"),
        issued("oauth_refresh_token"),
    ) as counts:
        query = {"response_type": "code", "client_id": zapier.client_id, "state": "s"}
        consent = await client.get("/oauth/authorize", params=query)
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(consent.text)}
        approved = await client.post("/oauth/authorize", data={**fields, "decision": "approve"})
        code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        exchanged = await client.post("/oauth/token", data={**form, **zapier.form()})
    assert exchanged.status_code == 200, exchanged.text
    assert counts.moved(issued("authorization_code")) == 1
    assert counts.moved(issued("oauth_access_token")) == 1
    assert counts.moved(issued("oauth_refresh_token")) == 1


async def oauth_tokens(app: FastAPI, client: httpx.AsyncClient, zapier: Client) -> dict[str, str]:
    ann = await add_user(engine_of(app), "ann@example.com")
    code = await add_code(engine_of(app), zapier, ann)
    form = {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **zapier.form(),
    }
    tokens: dict[str, str] = (await client.post("/oauth/token", data=form)).json()
    return tokens


async def test_rfc_7009_revocations_are_counted_by_what_they_ended(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    zapier = await add_client(engine_of(app), await add_user(engine_of(app), "olivia@example.com"))
    tokens = await oauth_tokens(app, client, zapier)
    with counting(app, revoked("oauth_access_token"), revoked("oauth_grant")) as counts:
        for token in (tokens["access_token"], tokens["refresh_token"], "pt_refresh_unknown"):
            response = await client.post("/oauth/revoke", data={"token": token, **zapier.form()})
            assert response.status_code == 200
    assert counts.moved(revoked("oauth_access_token")) == 1
    assert counts.moved(revoked("oauth_grant")) == 1


async def test_oauth_errors_are_counted_by_their_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    zapier = await add_client(engine_of(app), await add_user(engine_of(app), "olivia@example.com"))
    with counting(
        app, failed("oauth", "invalid_client"), failed("oauth", "invalid_grant")
    ) as counts:
        wrong_secret = {"client_id": zapier.client_id, "client_secret": "pt_client_wrong"}
        refresh = {"grant_type": "refresh_token", "refresh_token": "pt_refresh_nothing"}
        bad_client = await client.post("/oauth/token", data={**refresh, **wrong_secret})
        bad_grant = await client.post("/oauth/token", data={**refresh, **zapier.form()})
    assert (bad_client.status_code, bad_grant.status_code) == (401, 400)
    assert counts.moved(failed("oauth", "invalid_client")) == 1
    assert counts.moved(failed("oauth", "invalid_grant")) == 1


async def test_a_rate_limited_request_is_counted_by_route(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def limited() -> None:
        raise RateLimited("Slow down.", retry_after=30)

    app.add_api_route("/api/v1/limited", limited)
    sample = ("paced_rate_limited_total", {"route": "/api/v1/limited"})
    with counting(app, sample) as counts:
        response = await client.get("/api/v1/limited")
    assert response.status_code == 429
    assert counts.moved(sample) == 1


FORKED_COUNTS = """
import os
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from paced.web import metrics

ONE = [(0.0, None, "GET", "/x", 200, 0.001, None, None)]
metrics.observe_requests(ONE)
child = os.fork()
if child == 0:
    metrics.observe_requests(ONE * 2)
    os._exit(0)
os.waitpid(child, 0)
metrics.observe_requests(ONE)
registry = CollectorRegistry()
MultiProcessCollector(registry)
labels = {"method": "GET", "route": "/x", "status": "200"}
print(len(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])))
print(registry.get_sample_value("paced_http_requests_total", labels))
"""


def test_in_multiprocess_mode_a_forked_child_counts_in_files_of_its_own(
    tmp_path: Path,
) -> None:
    # The process id is kept, not asked for on every count: a fork must still be seen.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", FORKED_COUNTS], env=env, capture_output=True, text=True, check=True
    )
    files, total = done.stdout.split()
    assert (int(files), float(total)) == (4, 4.0)  # a counter and a histogram file each
