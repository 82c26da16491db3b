"""Profile one hot path in-process, without a network or a load generator.

    python bench/profile_paths.py floor|me|garbage|refresh|exchange [--requests 2000]
                                  [--db URL]

Environment: PROFILE=0 times the path without cProfile; SORT=tottime orders the
functions by their own time; CALLERS=regex also prints who calls the matching ones,
CALLEES=regex what they call; SQL=1 first prints the statements one request runs.

The app is driven through httpx's ASGI transport, one request at a time, so the figure
is the cost of the path itself (microseconds per request, of the clock and of this
process's CPU: on PostgreSQL the first includes waiting for the server), free of the
scheduling noise of a shared machine; then cProfile's top functions. For throughput, use run.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from paced.settings import Settings
from paced.storage.migrate import upgrade
from paced.web.app import create_app

REDIRECT_URI = "http://127.0.0.1:9/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def world(http: httpx.AsyncClient, app_state: object) -> dict[str, str]:
    """A signed-in user, a personal token, an app, and an approved grant."""
    page = await http.get("/signup")
    await http.post(
        "/signup",
        data={
            "csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
            "email": "p@example.com",
            "password": "x" * 12,
        },
    )
    page = await http.get("/settings/developer/tokens/new")
    created = await http.post(
        "/settings/developer/tokens/new",
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "name": "p",  # type: ignore[union-attr]
            "scopes": ["read", "write"],
            "expiration": "30",
        },
    )
    shown = await http.get(created.headers["location"])
    pat = re.search(r"pt_secret_\w+", shown.text).group(0)  # type: ignore[union-attr]
    page = await http.get("/settings/developer/applications/new")
    made = await http.post(
        "/settings/developer/applications/new",
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "name": "p",  # type: ignore[union-attr]
            "redirect_uris": REDIRECT_URI,
            "client_type": "confidential",
        },
    )
    shown = await http.get(made.headers["location"])
    client_id = re.search(r'id="client-id"[^>]*value="([^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r"pt_client_\w+", shown.text).group(0)  # type: ignore[union-attr]
    return {"pat": pat, "client_id": client_id, "client_secret": secret}


async def code(http: httpx.AsyncClient, client_id: str) -> str:
    url = (
        f"/oauth/authorize?response_type=code&client_id={client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope=read+write&state=s"
    )
    page = await http.get(url)
    if page.status_code == 200:
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        page = await http.post("/oauth/authorize", data={**fields, "decision": "approve"})
    return parse_qs(urlsplit(page.headers["location"]).query)["code"][0]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", choices=["floor", "me", "garbage", "refresh", "exchange"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'profile.db'}"
    await upgrade(url)
    app = create_app(
        Settings(
            _env_file=None,
            database_url=url,
            secret_key="p" * 40,
            base_url="http://testserver",
            password_time_cost=1,
            password_memory_kib=1024,
            password_parallelism=1,
            bench_floor=True,
            # As run.py: the work is measured, not the rate limits' refusals.
            rate_limit_bearer_failures_per_ip="off",
            rate_limit_token_per_client="off",  # noqa: S106 (a limit, not a secret)
            rate_limit_token_per_ip="off",  # noqa: S106
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        things = await world(http, app.paced)
        client = {"client_id": things["client_id"], "client_secret": things["client_secret"]}
        codes = []
        if args.path == "exchange":
            # One more for SQL=1's request.
            codes = [await code(http, things["client_id"]) for _ in range(args.requests + 1)]
        first = await http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": await code(http, things["client_id"]),
                "redirect_uri": REDIRECT_URI,
                **client,
            },
        )
        refresh = first.json()["refresh_token"]
        garbage = things["pat"][:-1] + ("0" if things["pat"][-1] != "0" else "1")
        api = httpx.AsyncClient(transport=transport, base_url="http://testserver")

        async def one(i: int) -> None:
            nonlocal refresh
            expected = 200
            if args.path == "floor":
                r = await api.get("/bench/floor")
            elif args.path == "me":
                r = await api.get(
                    "/api/v1/me", headers={"Authorization": f"Bearer {things['pat']}"}
                )
            elif args.path == "garbage":  # a bad checksum: refused without a database read
                r = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {garbage}"})
                expected = 401
            elif args.path == "refresh":
                r = await api.post(
                    "/oauth/token",
                    data={"grant_type": "refresh_token", "refresh_token": refresh, **client},
                )
                refresh = r.json()["refresh_token"]
            else:
                r = await api.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": codes[i],
                        "redirect_uri": REDIRECT_URI,
                        **client,
                    },
                )
            assert r.status_code == expected, r.text

        for i in range(min(50, args.requests)):  # warm up
            if args.path != "exchange":
                await one(i)
        if os.environ.get("SQL"):
            heard: list[str] = []
            plans = app.paced.database.plans
            plans.listeners.append(lambda sql, values: heard.append(sql))
            await one(args.requests)
            plans.listeners.clear()
            print(f"{len(heard)} statements in one request:")
            for sql in heard:
                print("  " + " ".join(sql.split()))
        profiler = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        profiling = os.environ.get("PROFILE", "1") != "0"
        if profiling:
            profiler.enable()
        for i in range(args.requests):
            await one(i)
        if profiling:
            profiler.disable()
        spent, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{args.path}: {spent / args.requests * 1e6:.0f} µs per request, "
            f"{cpu / args.requests * 1e6:.0f} µs of CPU "
            f"({args.requests} requests, profiler {'on' if profiling else 'off'})"
        )
        if profiling:
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative"))
            stats.print_stats(35)
            if os.environ.get("CALLERS"):
                stats.print_callers(os.environ["CALLERS"])
            if os.environ.get("CALLEES"):
                stats.print_callees(os.environ["CALLEES"])
        await api.aclose()
    await app.paced.database.close()


if __name__ == "__main__":
    try:  # the server's loop: uvicorn takes uvloop when it is installed
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
