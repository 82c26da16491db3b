"""The CPU one request costs paced's ASGI app, without a server, a network or a client.

    python bench/app_cost.py [floor|me|garbage] [--requests 3000] [--rounds 7]

A fresh SQLite database with a user and a personal access token made through the CLI;
the app as `paced serve` builds it (access log on, to /dev/null, and metrics on, counted
in prometheus-client's multiprocess mode as the server counts them), called directly
with an ASGI scope, on uvloop as the server runs it. It prints the least CPU
time per request over the rounds: on a shared machine the least is the steadiest
figure, since other load only ever adds to it. bench/run.py measures the whole server;
this isolates what paced's own code costs, for comparing two versions of it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

SECRET_KEY = "app-cost-secret-key-app-cost-secret-key"


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "paced", *args], env=env, capture_output=True, text=True, check=True
    )
    value: dict[str, Any] = json.loads(done.stdout)
    return value


def prepare() -> tuple[str, str]:
    """A database with a user and a personal access token: its URL and the token."""
    folder = tempfile.mkdtemp(prefix="paced-app-cost-")
    url = f"sqlite:///{folder}/bench.db"
    env = {**os.environ, "PACED_DATABASE_URL": url, "PACED_SECRET_KEY": SECRET_KEY}
    subprocess.run([sys.executable, "-m", "paced", "db", "upgrade"], env=env, check=True)
    cli(env, "users", "create", "--email", "a@example.com", "--password", "bench-password-1")
    token = cli(env, "tokens", "create", "--user", "a@example.com", "--name", "bench")["token"]
    return url, str(token)


async def measure(
    url: str, token: str, path: str, requests: int, rounds: int, devnull: Any
) -> float:
    from paced.settings import Settings
    from paced.web.app import create_app

    settings = Settings(
        _env_file=None,
        database_url=url,
        base_url="http://127.0.0.1:8000",
        secret_key=SECRET_KEY,
        bench_floor=True,
        metrics_port=9,
        log_format="json",
        rate_limit_bearer_failures_per_ip="off",
    )
    app = create_app(settings, log_stream=devnull)
    target = {"floor": "/bench/floor", "me": "/api/v1/me", "garbage": "/api/v1/me"}[path]
    headers = [(b"host", b"127.0.0.1:8000")]
    if path == "me":
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if path == "garbage":
        headers.append((b"authorization", f"Bearer {token[:-1]}0".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(300):  # warm up
        await app(dict(scope), receive, send)
    least = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await app(dict(scope), receive, send)
        least = min(least, (time.process_time() - started) / requests)
    app.state.answered.close()
    expected = 401 if path == "garbage" else 200
    if statuses != {expected}:
        raise SystemExit(f"unexpected answers: {sorted(statuses)}")
    return least * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="me", choices=["floor", "me", "garbage"])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import uvloop

    url, token = prepare()
    # As `paced serve` sets it (paced.cli.metrics_listener): before prometheus_client is
    # imported, so before the app is.
    counts = tempfile.mkdtemp(prefix="paced-app-cost-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = counts
    try:
        with open(os.devnull, "w") as devnull:
            cost = uvloop.run(measure(url, token, args.path, args.requests, args.rounds, devnull))
    finally:
        shutil.rmtree(counts, ignore_errors=True)
    print(f"{args.path}: {cost:.1f} µs of CPU per request (least of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
