"""`paced serve` as operators run it: several workers, their summed metrics on a listener
of their own, JSON log lines without secrets, and a graceful stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port, paced_node
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e

READY_CHECKS = 24
PASSWORD = "correct horse battery"


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        sample, _, number = line.rpartition(" ")
        if sample == f"{name}{{{wanted}}}":
            return float(number)
    return 0.0


def json_lines(log: Path) -> list[dict[str, object]]:
    """The server's JSON log lines (`paced db upgrade`, run first in a process of its own,
    writes one plain line)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_two_workers_share_the_load_and_the_metrics_add_up_across_them(
    database_url: str, tmp_path: Path
) -> None:
    metrics_port = free_port()
    env = {"PACED_METRICS_PORT": str(metrics_port), "PACED_LOG_FORMAT": "json"}
    with paced_node(database_url, tmp_path, env=env, workers=2) as node:
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda n: httpx.get(f"{node.base}/readyz", headers={"X-Request-ID": f"r{n}"}),
                    range(READY_CHECKS),
                )
            )
        assert [answer.status_code for answer in answers] == [200] * READY_CHECKS
        assert [a.headers["x-request-id"] for a in answers] == [
            f"r{n}" for n in range(READY_CHECKS)
        ]
        with httpx.Client(base_url=node.base) as browser:
            page = browser.get("/login")
            refused = browser.post(
                "/login",
                data={
                    "csrf_token": csrf_token(page.text),
                    "email": "nobody@example.com",
                    "password": PASSWORD,
                },
            )
            assert refused.status_code == 400

        # Never on the public port; on its own, all workers' counts summed.
        assert httpx.get(f"{node.base}/metrics").status_code == 404
        ready = {"method": "GET", "route": "/readyz", "status": "200"}
        failed_login = {"kind": "login", "reason": "bad_credentials"}
        # A worker counts what its requests counted in batches, at most 10 ms late.
        deadline = time.monotonic() + 5
        while True:
            exposition = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            counted = (
                metric(exposition, "paced_http_requests_total", **ready) >= READY_CHECKS
                and metric(exposition, "paced_auth_failures_total", **failed_login) >= 1
            )
            if counted or time.monotonic() > deadline:
                break
            time.sleep(0.05)

    assert metric(exposition, "paced_http_requests_total", **ready) == READY_CHECKS
    assert (
        metric(
            exposition,
            "paced_http_request_duration_seconds_count",
            method="GET",
            route="/readyz",
        )
        == READY_CHECKS
    )
    assert metric(exposition, "paced_auth_failures_total", **failed_login) == 1


@pytest.fixture
def logged_node(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with paced_node(database_url, tmp_path, env={"PACED_LOG_FORMAT": "json"}) as node:
        yield node.base, node.log


def test_every_request_is_one_json_line_naming_its_route_and_never_a_secret(
    logged_node: tuple[str, Path],
) -> None:
    base, log = logged_node
    token = "pt_secret_" + "S" * 36
    httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    httpx.get(
        f"{base}/oauth/authorize",
        params={"client_id": "c", "state": "private-state-value"},
        headers={"X-Request-ID": "trace-1"},
    )
    httpx.post(f"{base}/oauth/token", data={"client_secret": "pt_client_private"})
    time.sleep(0.2)  # the lines are written as the answers go out

    text = log.read_text()
    for secret in (token, "private-state-value", "pt_client_private"):
        assert secret not in text
    routes = {line["route"]: line for line in json_lines(log) if line["logger"] == "paced.access"}
    assert routes["/api/v1/me"]["status"] == 401
    assert routes["/oauth/authorize"]["request_id"] == "trace-1"
    assert routes["/oauth/token"]["method"] == "POST"
    assert set(routes["/oauth/token"]) >= {"time", "level", "status", "duration_ms", "request_id"}


def test_an_in_flight_request_finishes_after_sigterm_and_then_the_server_exits(
    database_url: str, tmp_path: Path
) -> None:
    sent_first_part, go_on = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield b"grant_type=refresh_token&refresh_token=pt_refresh_x"
        sent_first_part.set()
        go_on.wait(timeout=20)
        yield b"&client_id=nobody"

    answers: list[httpx.Response] = []
    with paced_node(database_url, tmp_path) as node:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{node.base}/oauth/token", content=slow_body(), headers=headers)
            )
        )
        request.start()
        assert sent_first_part.wait(timeout=10)
        # The first part is on its way; give the server a moment to read the headers,
        # which is when the request becomes in flight (before, SIGTERM just closes an
        # idle connection).
        time.sleep(0.5)
        node.process.send_signal(signal.SIGTERM)
        # Shutting down: no new connection is accepted while the old request still runs.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{node.base}/healthz", timeout=0.5)
            except httpx.TransportError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server kept accepting connections after SIGTERM")
        assert node.process.poll() is None
        go_on.set()
        request.join(timeout=20)
        try:
            exit_code = node.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not exit after its last request")

    [answer] = answers
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert exit_code == 0
    assert "Finished server process" in node.log.read_text()


def test_a_metrics_port_in_use_stops_the_start_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        environment.update(
            PACED_DATABASE_URL=database_url,
            PACED_SECRET_KEY="e2e-secret-key-e2e-secret-key-e2e",
            PACED_METRICS_PORT=str(port),
        )
        result = subprocess.run(
            [sys.executable, "-m", "paced", "serve", "--port", str(free_port())],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"cannot serve metrics on 127.0.0.1:{port}:")
    )
