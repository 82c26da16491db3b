"""`/api/v1/me` under wrk, alone and while someone signs in a few times a second.

    python bench/sign_ins.py [--per-second 4] [--duration 10] [--rounds 2]

A password hash takes about 130 ms of CPU at the default cost (docs/configuration.md):
this shows what sign-ins cost the API of the same worker. SQLite, one worker pinned to
core 0 and wrk on core 1 as in run.py; the sign-ins come from a thread of this process
(also on core 1), each a GET of /login and a POST of its form with the right password.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import run as bench  # the benchmark's own helpers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_loop(base: str, per_second: float, stop: threading.Event, took: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.monotonic()
            page = http.get("/login")
            token = CSRF.search(page.text)
            assert token, page.text[:200]
            form = {"csrf_token": token.group(1), "email": bench.EMAIL}
            answer = http.post("/login", data={**form, "password": bench.PASSWORD})
            assert answer.status_code == 303, answer.status_code
            took.append(time.monotonic() - started)
            http.cookies.clear()
            stop.wait(max(0.0, 1 / per_second - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-second", type=float, default=4)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="paced-sign-ins-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
    env.update({"PACED_DATABASE_URL": f"sqlite:///{folder}/paced.db", "PACED_SECRET_KEY": "s" * 40})
    bench.cli(env, "users", "create", "--email", bench.EMAIL, "--password", bench.PASSWORD)
    pat = str(bench.cli(env, "tokens", "create", "--user", bench.EMAIL, "--name", "b")["token"])
    port = 19000 + secrets.randbelow(1000)
    base = f"http://127.0.0.1:{port}"
    server = bench.start_server(env, port, folder / "server.log")
    me = ["/api/v1/me", "200", pat]
    try:
        bench.wrk(base, "get.lua", me, 200, 2, 32)  # warm up
        for _ in range(args.rounds):
            for per_second in (0, args.per_second):
                stop, took = threading.Event(), []
                signing = threading.Thread(target=sign_in_loop, args=(base, per_second, stop, took))
                if per_second:
                    signing.start()
                stats = bench.wrk(base, "get.lua", me, 200, args.duration, 32)
                stop.set()
                if per_second:
                    signing.join()
                result = bench.measure("me_pat", server.pid, stats)
                took.sort()
                median = f"{took[len(took) // 2] * 1000:.0f} ms" if took else "-"
                print(
                    f"sign-ins {per_second:g}/s: me_pat {bench._describe(result)};"
                    f" {len(took)} sign-ins, median {median}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
