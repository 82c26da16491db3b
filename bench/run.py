"""The paced benchmark: one command, real server, real flows, real load generator.

    python bench/run.py [--db sqlite|postgresql|both] [--duration 10] [--tokens 1000]

For each database: a fresh database; a user, an app and a personal access token made
through the CLI; OAuth tokens and codes obtained through real authorization flows; then
`paced serve` with one worker pinned to core 0, driven by wrk (one thread, 32
connections) pinned to core 1. paced runs as an operator runs it: its default settings,
the access log on, metrics on; only the rate limits that the load would meet from one
address are off, so that the work is measured and not the refusals.

The yardstick is `bare`: a bare Starlette app (bench/bare.py) serving the same JSON on
the same server and core, measured in the same run. `floor` is paced's own route with
that JSON and no authentication or database (its middleware's cost), and
`me_pat_fresh` and `me_pat_no_log` are `me_pat` on two fresh servers, the second
started with `--no-access-log` (the access log's cost). Every answer's status is
checked: a scenario with an unexpected status reports an error, never a throughput.
docs/benchmarks.md explains.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import asyncpg
import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"
PACED = [sys.executable, "-m", "paced"]
REDIRECT_URI = "http://127.0.0.1:9/callback"
PASSWORD = "bench-password-1234"
EMAIL = "bench@example.com"
SERVER_CORE, LOAD_CORE = "0", "1"

SCENARIOS = (
    "bare",
    "floor",
    "me_pat",
    "me_pat_fresh",
    "me_pat_no_log",
    "me_oauth",
    "me_unknown",
    "me_garbage",
    "token_refresh",
    "code_exchange",
)


@dataclass
class Result:
    scenario: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_mib: float = 0.0
    requests: int = 0
    # CPU time of the serving process per answered request: steadier than req/s on a
    # shared machine, whose other load slows the clock but not the work.
    cpu_us: float = 0.0
    # How busy the server's core and the load generator's core were, as a share of the
    # scenario's time: the one near 1.0 set the pace. A scenario whose server was not
    # busy measured wrk, not paced, and its ratios to bare mean little.
    server_busy: float = 0.0
    load_busy: float = 0.0
    error: str = ""


# --- databases ----------------------------------------------------------------------


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(_pg_dsn(admin_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Database:
    def __init__(self, kind: str, folder: Path, admin_url: str) -> None:
        self.kind, self.admin_url = kind, admin_url
        if kind == "sqlite":
            self.url = f"sqlite:///{folder / 'bench.db'}"
        else:
            self.name = f"paced_bench_{secrets.token_hex(4)}"
            self.url = (
                make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
            )

    def __enter__(self) -> Database:
        if self.kind == "postgresql":
            asyncio.run(_pg_admin(self.admin_url, f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *_: object) -> None:
        if self.kind == "postgresql":
            asyncio.run(
                _pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            )


# --- bootstrap through the CLI ----------------------------------------------------------


def cli(env: dict[str, str], *args: str) -> dict[str, object]:
    result = subprocess.run([*PACED, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"paced {' '.join(args[:2])} failed: {result.stderr.strip()}")
    value: dict[str, object] = json.loads(result.stdout)
    return value


async def prefill_tokens(url: str, count: int, user_id: str) -> None:
    """`count` more personal access tokens in the table, so the table size is measured."""
    from paced.core.ids import digest, random_base62
    from paced.storage.database import open_database
    from paced.storage.models import personal_tokens
    from paced.web.state import system_clock

    database = open_database(url)
    now = system_clock()
    batch = 10_000
    try:
        for start in range(0, count, batch):
            rows = [
                {
                    "id": f"pat_{random_base62(24)}",
                    "user_id": user_id,
                    "name": "prefill",
                    "digest": digest(random_base62(40)),
                    "scopes": "read write",
                    "created_at": now,
                    "expires_at": None,
                    "last_used_at": None,
                    "revoked_at": None,
                }
                for _ in range(min(batch, count - start))
            ]
            async with database.unit_of_work() as store:
                await store.connection.execute(insert(personal_tokens), rows)
    finally:
        await database.close()


# --- real authorization flows ---------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def signed_in_browser(base: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(base_url=base, timeout=30)
    page = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "csrf_token": _CSRF.search(page.text).group(1),  # type: ignore[union-attr]
            "email": EMAIL,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303, response.text
    return browser


def authorize_path(client_id: str) -> str:
    return (
        "/oauth/authorize?response_type=code&client_id="
        + quote(client_id)
        + "&redirect_uri="
        + quote(REDIRECT_URI, safe="")
        + "&scope=read+write&state=bench"
    )


async def approve_once(browser: httpx.AsyncClient, client_id: str) -> str:
    """The first authorization goes through the consent screen, as a person's would."""
    page = await browser.get(authorize_path(client_id))
    if page.status_code == 302 or page.status_code == 303:
        return code_from(page)
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {name: html.unescape(value) for name, value in hidden}
    fields["decision"] = "approve"
    response = await browser.post("/oauth/authorize", data=fields)
    return code_from(response)


def code_from(response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    query = parse_qs(urlsplit(location).query)
    if "code" not in query:
        raise SystemExit(
            f"no code in the authorization response: {response.status_code} "
            f"{location or response.text[:300]}"
        )
    return query["code"][0]


async def codes(browser: httpx.AsyncClient, client_id: str, count: int) -> list[str]:
    """Later authorizations of the same scopes skip the consent screen, as GitHub's do."""
    limit = asyncio.Semaphore(16)

    async def one() -> str:
        async with limit:
            return code_from(await browser.get(authorize_path(client_id)))

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def exchange(base: str, app: dict[str, object], codes_: list[str]) -> list[dict[str, str]]:
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def one(code: str) -> dict[str, str]:
            async with limit:
                response = await http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": REDIRECT_URI,
                        "client_id": str(app["client_id"]),
                        "client_secret": str(app["client_secret"]),
                    },
                )
                assert response.status_code == 200, response.text
                value: dict[str, str] = response.json()
                return value

        return list(await asyncio.gather(*(one(c) for c in codes_)))


# --- the server and the load ------------------------------------------------------------


def start_server(
    env: dict[str, str], port: int, log: Path, *options: str
) -> subprocess.Popen[bytes]:
    return started(
        ["taskset", "-c", SERVER_CORE, *PACED, "serve", "--port", str(port), *options],
        env,
        port,
        log,
    )


def start_bare(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """bench/bare.py on uvicorn as `paced serve` runs it: httptools, uvloop when installed,
    no server header, and no access log (it has none of its own to write)."""
    command = [
        *("taskset", "-c", SERVER_CORE, sys.executable, "-m", "uvicorn"),
        *("--app-dir", str(ROOT / "bench"), "bare:app", "--port", str(port)),
        *("--http", "httptools", "--no-access-log", "--no-server-header"),
        *("--log-level", "warning"),
    ]
    return started(command, env, port, log, health="/api/v1/me")


def started(
    command: list[str], env: dict[str, str], port: int, log: Path, health: str = "/healthz"
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory of the serving process (the worker, with --workers 1)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(
    base: str, script: str, args: list[str], expect: int, duration: int, connections: int
) -> dict[str, int]:
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_EXPECT": str(expect)}
    command = [
        "taskset",
        "-c",
        LOAD_CORE,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA / script),
        base,
        "--",
        *args,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=duration + 60
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in output.splitlines():
        if line.startswith("BENCH "):
            value: dict[str, int] = json.loads(line[6:])
            # wrk's CPU time, in microseconds like the rest.
            value["load_cpu_us"] = round(
                (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e6
            )
            return value
    raise SystemExit(f"wrk printed no result:\n{output}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def measure(name: str, pid: int, stats: dict[str, int], cpu: float) -> Result:
    result = Result(name, requests=stats["requests"], rss_mib=rss_mib(pid))
    result.cpu_us = cpu / max(stats["requests"], 1) * 1e6
    if stats["unexpected"] or stats["socket_errors"]:
        result.error = (
            f"{stats['unexpected']} unexpected answers (first: "
            f"{stats['first_unexpected_status']}), "
            f"{stats['socket_errors']} socket errors"
        )
        return result
    result.rps = stats["requests"] / (stats["duration_us"] / 1e6)
    result.server_busy = cpu / (stats["duration_us"] / 1e6)
    result.load_busy = stats["load_cpu_us"] / stats["duration_us"]
    result.p50_ms, result.p99_ms = stats["p50_us"] / 1000, stats["p99_us"] / 1000
    return result


# --- one database ---------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="paced-bench-"))
    try:
        return _run_database(kind, args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_database(kind: str, args: argparse.Namespace, folder: Path) -> list[Result]:
    with Database(kind, folder, args.postgres_url) as database:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
        env.update(
            {
                "PACED_DATABASE_URL": database.url,
                "PACED_SECRET_KEY": "bench-secret-key-bench-secret-key",
                "PACED_BENCH_FLOOR": "1",
                "PACED_ACCESS_TOKEN_TTL": "86400",
                "PACED_METRICS_PORT": str(19000 + secrets.randbelow(1000)),
                # me_unknown/me_garbage send thousands of invalid tokens a second, and the
                # token scenarios thousands of requests, all from 127.0.0.1 and one client:
                # what is measured is the work, not the rate limits' refusals.
                "PACED_RATE_LIMIT_BEARER_FAILURES_PER_IP": "off",
                "PACED_RATE_LIMIT_TOKEN_PER_CLIENT": "off",
                "PACED_RATE_LIMIT_TOKEN_PER_IP": "off",
            }
        )
        user = cli(
            env, "users", "create", "--email", EMAIL, "--password", PASSWORD, "--name", "Bench"
        )
        pat = cli(env, "tokens", "create", "--user", EMAIL, "--name", "bench")
        app = cli(
            env,
            "apps",
            "create",
            "--owner",
            EMAIL,
            "--name",
            "Bench app",
            "--redirect-uri",
            REDIRECT_URI,
        )
        if args.tokens:
            asyncio.run(prefill_tokens(database.url, args.tokens, str(user["id"])))

        port = 18000 + secrets.randbelow(1000)
        base = f"http://127.0.0.1:{port}"
        wanted = set(args.scenarios)
        results: list[Result] = []

        def run(name: str, pid: int, script: str, script_args: list[str], expect: int) -> None:
            before = cpu_seconds(pid)
            stats = wrk(base, script, script_args, expect, args.duration, args.connections)
            results.append(measure(name, pid, stats, cpu_seconds(pid) - before))
            print(f"  {kind:10} {name:14} {_describe(results[-1])}", file=sys.stderr)

        def warm_up(path: str, token: str) -> None:
            wrk(base, "get.lua", [path, "200", token], 200, 2, args.connections)

        if "bare" in wanted:
            bare = start_bare(env, port, folder / "bare.log")
            try:
                warm_up("/api/v1/me", "")
                run("bare", bare.pid, "get.lua", ["/api/v1/me", "200", ""], 200)
            finally:
                stop(bare)

        server = start_server(env, port, folder / "server.log")
        try:
            refresh_count = args.grants if "token_refresh" in wanted else 0
            code_count = args.codes if "code_exchange" in wanted else 0

            async def flows() -> tuple[list[dict[str, str]], list[str]]:
                browser = await signed_in_browser(base)
                try:
                    first = await approve_once(browser, str(app["client_id"]))
                    fresh = await codes(browser, str(app["client_id"]), refresh_count + code_count)
                finally:
                    await browser.aclose()
                pairs = await exchange(base, app, [first, *fresh[:refresh_count]])
                return pairs, fresh[refresh_count:]

            pairs, exchange_codes = asyncio.run(flows())
            refresh_file = folder / "refresh.txt"
            refresh_file.write_text("\n".join(p["refresh_token"] for p in pairs[1:]) + "\n")
            codes_file = folder / "codes.txt"
            codes_file.write_text("\n".join(exchange_codes) + "\n")
            access = pairs[0]["access_token"]
            unknown = _well_formed_unknown()
            garbage = str(pat["token"])[:-1] + ("0" if str(pat["token"])[-1] != "0" else "1")
            secret = quote(str(app["client_secret"]), safe="")
            client_id = quote(str(app["client_id"]), safe="")
            plan = {
                "floor": ("get.lua", ["/bench/floor", "200", ""], 200),
                "me_pat": ("get.lua", ["/api/v1/me", "200", str(pat["token"])], 200),
                "me_oauth": ("get.lua", ["/api/v1/me", "200", access], 200),
                "me_unknown": ("get.lua", ["/api/v1/me", "401", unknown], 401),
                "me_garbage": ("get.lua", ["/api/v1/me", "401", garbage], 401),
                "token_refresh": ("refresh.lua", [str(refresh_file), client_id, secret], 200),
                "code_exchange": (
                    "code.lua",
                    [str(codes_file), client_id, secret, quote(REDIRECT_URI, safe="")],
                    200,
                ),
            }
            # Warm up the interpreter and the connection pool before measuring.
            warm_up("/api/v1/me", str(pat["token"]))
            for name in args.scenarios:
                if name in plan:
                    run(name, server.pid, *plan[name])
        finally:
            stop(server)

        if {"me_pat_fresh", "me_pat_no_log"} & wanted:
            # Two fresh servers, alike but for the access log: the first server's heap
            # holds what the OAuth flows and the other scenarios left, which moved
            # me_pat by more than the log's own cost.
            for name, options in (("me_pat_fresh", ()), ("me_pat_no_log", ("--no-access-log",))):
                fresh = start_server(env, port, folder / f"{name}.log", *options)
                try:
                    warm_up("/api/v1/me", str(pat["token"]))
                    run(name, fresh.pid, *plan["me_pat"])
                finally:
                    stop(fresh)
        return sorted(results, key=lambda r: SCENARIOS.index(r.scenario))


def _well_formed_unknown() -> str:
    from paced.core.token_format import generate

    return generate("pt_secret_")


def _describe(result: Result) -> str:
    if result.error:
        return f"ERROR: {result.error}"
    return (
        f"{result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
        f"  CPU {result.cpu_us:6.1f} us/req  RSS {result.rss_mib:5.1f} MiB"
        f"  busy: server {result.server_busy:.2f}, wrk {result.load_busy:.2f}"
    )


def table(kind: str, results: list[Result], tokens: int) -> str:
    def rps(scenario: str) -> float:
        return next((r.rps for r in results if r.scenario == scenario and not r.error), 0.0)

    bare, floor = rps("bare"), rps("floor")
    bare_cpu = next((r.cpu_us for r in results if r.scenario == "bare" and not r.error), 0.0)
    lines = [
        f"### {kind}, {tokens:,} extra tokens in the table",
        "",
        "| scenario | req/s | x bare | x floor | p50 ms | p99 ms | CPU µs/req | x bare, CPU "
        "| RSS MiB | busy: server, wrk |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.error:
            lines.append(f"| {r.scenario} | error: {r.error} | | | | | | | | |")
            continue
        x_bare = f"{r.rps / bare:.2f}" if bare else "-"
        x_floor = f"{r.rps / floor:.2f}" if floor and r.scenario != "bare" else "-"
        # The share of the bare app's throughput this would reach on a core of its own.
        cpu_ratio = f"{bare_cpu / r.cpu_us:.2f}" if bare_cpu and r.cpu_us else "-"
        lines.append(
            f"| {r.scenario} | {r.rps:,.0f} | {x_bare} | {x_floor} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.cpu_us:.0f} | {cpu_ratio} | {r.rss_mib:.1f} | "
            f"{r.server_busy:.2f}, {r.load_busy:.2f} |"
        )
    logged, quiet = rps("me_pat_fresh"), rps("me_pat_no_log")
    if logged and quiet:
        lines += ["", f"The access log keeps {logged / quiet:.2f} of me_pat's throughput."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--tokens",
        type=int,
        default=1000,
        help="extra personal access tokens in the table (e.g. 1000000)",
    )
    parser.add_argument(
        "--grants", type=int, default=256, help="refresh-token chains for token_refresh"
    )
    parser.add_argument(
        "--codes", type=int, default=20000, help="authorization codes made for code_exchange"
    )
    parser.add_argument("--scenarios", type=lambda s: s.split(","), default=list(SCENARIOS))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "PACED_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if not shutil.which("wrk") or not shutil.which("taskset"):
        parser.error("needs wrk and taskset on PATH (scripts/bench installs wrk)")

    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    report = []
    for kind in kinds:
        print(f"{kind}:", file=sys.stderr)
        report.append(table(kind, run_database(kind, args), args.tokens))
    text = "\n\n".join(report)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
