"""Two `paced serve` nodes on one database, one secret key and one base URL form one
service (docs/reference.md §1): what one node issues the other accepts, and what one ends the other
refuses from its very next request.

On PostgreSQL this is the documented scale-out mode; on SQLite the two nodes share one
database file, as two processes on one machine may. The "browser" is one httpx client
that talks to both nodes, as a browser behind a load balancer would: cookies ignore the
port, so the session cookie from one node is sent to the other.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests import databases
from tests.e2e.server import paced_serve
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e

BASE_URL = "http://paced.test"  # the load balancer's origin, the same on every node
SECRET_KEY = "cluster-secret-key-cluster-secret-key"
PASSWORD = "correct horse battery"
REDIRECT = "https://client.example/callback"
REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN_LIMIT = 3
_SECRET = re.compile(r"pt_secret_[0-9A-Za-z]{36}")
_TOKEN_ID = re.compile(r"/settings/developer/tokens/(pat_[0-9A-Za-z]{24})/revoke")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class Cluster:
    a: str
    b: str
    database_url: str
    workdir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> dict[str, Any]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
        environment.update(self.env, PACED_DATABASE_URL=self.database_url)
        result = subprocess.run(
            [sys.executable, "-m", "paced", *args],
            env=environment,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        created: dict[str, Any] = json.loads(result.stdout)
        return created


@pytest.fixture(scope="module")
def cluster(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Nodes A and B, started once for this module; the database is emptied afterwards."""
    workdir = tmp_path_factory.mktemp("cluster")
    env = {
        "PACED_BASE_URL": BASE_URL,
        "PACED_SECRET_KEY": SECRET_KEY,
        "PACED_REDIS_URL": REDIS_URL,
        # This run's counters apart from any other's on the same Redis.
        "PACED_REDIS_KEY_PREFIX": f"paced-cluster-{secrets.token_hex(6)}",
        "PACED_RATE_LIMIT_LOGIN_PER_ACCOUNT": f"{LOGIN_LIMIT}/10 minutes",
    }
    try:
        with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
            # Started side by side: each start waits for its migrations and first answer.
            starting = [
                pool.submit(stack.enter_context, paced_serve(migrated_database, workdir, env=env))
                for _ in range(2)
            ]
            a, b = (future.result() for future in starting)
            yield Cluster(a, b, migrated_database, workdir, env)
    finally:
        databases.wipe(migrated_database)


def new_email() -> str:
    return f"node-{secrets.token_hex(4)}@example.com"


def sign_up(browser: httpx.Client, node: str, email: str) -> None:
    page = browser.get(f"{node}/signup")
    data = {"csrf_token": csrf_token(page.text), "email": email, "password": PASSWORD}
    response = browser.post(f"{node}/signup", data={**data, "name": "Node"})
    assert response.status_code == 303, response.text


def post_form(browser: httpx.Client, page_url: str, action_url: str, **fields: Any) -> str:
    """GET a page, POST its form with its CSRF token; the 303's location."""
    page = browser.get(page_url)
    assert page.status_code == 200, page.text
    response = browser.post(action_url, data={"csrf_token": csrf_token(page.text), **fields})
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location


def me(node: str, token: str) -> httpx.Response:
    return httpx.get(f"{node}/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_made_on_one_node_works_on_the_other_and_a_revocation_there_holds_at_once(
    cluster: Cluster,
) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        form = f"{cluster.a}/settings/developer/tokens/new"
        created = post_form(
            browser, form, form, name="cluster", scopes=["read", "write"], expiration="30"
        )
        # The secret is shown once, by node B: the reveal cookie A signed is good on B.
        shown = browser.get(f"{cluster.b}{created}")
        assert shown.status_code == 200
        token = _SECRET.findall(shown.text)[0]

        answer = me(cluster.b, token)
        assert answer.status_code == 200
        assert answer.json()["email"] == email

        developer = browser.get(f"{cluster.b}/settings/developer").text
        revoke = f"{cluster.b}/settings/developer/tokens/{_TOKEN_ID.findall(developer)[0]}/revoke"
        post_form(browser, revoke, revoke)

    refused = me(cluster.a, token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


def test_a_token_reported_leaked_on_one_node_is_dead_on_the_other_at_once(
    cluster: Cluster,
) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        form = f"{cluster.a}/settings/developer/tokens/new"
        created = post_form(browser, form, form, name="leaky", scopes=["read"], expiration="30")
        token = _SECRET.findall(browser.get(f"{cluster.a}{created}").text)[0]
        assert me(cluster.b, token).status_code == 200

        # Pasted into the endpoint by a stranger (a secret scanner), on node A.
        report = httpx.post(f"{cluster.a}/api/v1/credentials/revoke", json={"credentials": [token]})
        assert (report.status_code, report.json()) == (202, {})
        refused = me(cluster.b, token)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"

        log = browser.get(f"{cluster.b}/settings/security-log").text
        assert "Credential reported leaked" in log
        assert html.escape(f"pt_secret_\u2026{token[-4:]}") in log
        assert token not in log


def test_a_code_issued_by_one_node_is_exchanged_at_the_other(cluster: Cluster) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        app = cluster.cli(
            "apps", "create", "--owner", email, "--name", "Cluster", "--redirect-uri", REDIRECT
        )
        query = {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "state": "s-1",
            "scope": "read",
        }
        consent = browser.get(f"{cluster.a}/oauth/authorize", params=query)
        assert consent.status_code == 200, consent.text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(consent.text)}
        approved = browser.post(
            f"{cluster.a}/oauth/authorize", data={**fields, "decision": "approve"}
        )
        assert approved.status_code == 303, approved.text
        redirect = parse_qs(urlsplit(approved.headers["location"]).query)
        assert redirect["iss"] == [BASE_URL]

    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    exchanged = httpx.post(
        f"{cluster.b}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": redirect["code"][0],
            "redirect_uri": REDIRECT,
            **client,
        },
    )
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert me(cluster.a, tokens["access_token"]).status_code == 200

    refreshed = httpx.post(
        f"{cluster.a}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **client},
    )
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    assert me(cluster.b, access).status_code == 200

    revoked = httpx.post(
        f"{cluster.b}/oauth/revoke",
        data={"token": refreshed.json()["refresh_token"], **client},
    )
    assert revoked.status_code == 200
    assert me(cluster.a, access).status_code == 401


def test_a_device_code_issued_by_one_node_is_answered_and_redeemed_at_the_other(
    cluster: Cluster,
) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        app = cluster.cli(
            "apps",
            "create",
            "--owner",
            email,
            "--name",
            "Device",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--public",
            "--device-flow",
        )
        client = {"client_id": app["client_id"]}
        started = httpx.post(f"{cluster.a}/oauth/device_authorization", data=client)
        assert started.status_code == 200, started.text
        codes = started.json()
        assert codes["verification_uri"] == f"{BASE_URL}/device"
        poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", **client}
        poll["device_code"] = codes["device_code"]
        # One code's polling interval, whichever node is asked.
        first = httpx.post(f"{cluster.b}/oauth/token", data=poll)
        assert first.json()["error"] == "authorization_pending"
        second = httpx.post(f"{cluster.a}/oauth/token", data=poll)
        assert second.json()["error"] == "slow_down"

        entry = f"{cluster.b}/device?user_code={codes['user_code']}"
        page = browser.get(entry)
        screen = browser.post(
            f"{cluster.b}/device",
            data={"csrf_token": csrf_token(page.text), "user_code": codes["user_code"]},
        )
        assert screen.status_code == 200, screen.text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(screen.text)}
        decided = browser.post(
            f"{cluster.a}/device/decision", data={**fields, "decision": "approve"}
        )
        assert decided.status_code == 303, decided.text

    issued = httpx.post(f"{cluster.b}/oauth/token", data=poll)
    assert issued.status_code == 200, issued.text
    assert me(cluster.a, issued.json()["access_token"]).json()["email"] == email
    again = httpx.post(f"{cluster.a}/oauth/token", data=poll)
    assert again.json()["error"] == "invalid_grant"


def test_a_session_started_on_one_node_is_valid_on_the_other_and_a_logout_there_ends_it(
    cluster: Cluster,
) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        session = browser.cookies["paced_session"]
        page = browser.get(f"{cluster.b}/settings/developer")
        assert page.status_code == 200
        assert email in page.text
        # The CSRF token node B put in its page is accepted by node B's logout.
        assert post_form(browser, f"{cluster.b}/settings/account", f"{cluster.b}/logout")

    # The old cookie, replayed at node A, no longer signs anybody in.
    with httpx.Client(cookies={"paced_session": session}) as replay:
        answer = replay.get(f"{cluster.a}/settings/developer")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def log_in(browser: httpx.Client, node: str, email: str, password: str) -> int:
    page = browser.get(f"{node}/login")
    data = {"csrf_token": csrf_token(page.text), "email": email, "password": password}
    return browser.post(f"{node}/login", data=data).status_code


def test_failed_sign_ins_are_counted_once_for_the_whole_cluster(cluster: Cluster) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        browser.cookies.clear()
        failures = [
            log_in(browser, node, email, "wrong password")
            for node in (cluster.a, cluster.b, cluster.a)
        ]
        assert failures == [400] * LOGIN_LIMIT
        # The limit counted failures on both nodes: each now refuses even the right
        # password, without checking it.
        assert log_in(browser, cluster.b, email, PASSWORD) == 429
        assert log_in(browser, cluster.a, email, PASSWORD) == 429


def test_an_account_disabled_from_the_command_line_is_refused_by_every_node_at_once(
    cluster: Cluster,
) -> None:
    email = new_email()
    with httpx.Client() as browser:
        sign_up(browser, cluster.a, email)
        form = f"{cluster.a}/settings/developer/tokens/new"
        created = post_form(browser, form, form, name="cluster", scopes=["read"], expiration="30")
        token = _SECRET.findall(browser.get(f"{cluster.a}{created}").text)[0]
        assert [me(node, token).status_code for node in (cluster.a, cluster.b)] == [200, 200]

        assert cluster.cli("users", "disable", email)["disabled"] is True
        for node in (cluster.a, cluster.b):
            refused = me(node, token)
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
        # Its session ended too, on both nodes.
        assert browser.get(f"{cluster.b}/settings/developer").status_code == 303

        assert cluster.cli("users", "enable", email)["disabled"] is False
        assert [me(node, token).status_code for node in (cluster.a, cluster.b)] == [200, 200]
