"""A real `paced serve` subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers import CHEAP_HASHING_ENV


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Node:
    """A running `paced serve`: its URL, its process, and the file its output goes to."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def paced_serve(
    database_url: str,
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    host_name: str = "127.0.0.1",
) -> Iterator[str]:
    """Start `paced serve`, wait until it answers, yield its base URL, stop it."""
    with paced_node(database_url, workdir, env=env, workers=workers, host_name=host_name) as node:
        yield node.base


@contextmanager
def paced_node(
    database_url: str,
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    bootstrap: str = "",
    host_name: str = "127.0.0.1",
) -> Iterator[Node]:
    """`paced_serve`, yielding the process too (to signal it) and its log file.

    `bootstrap` is Python that the server process runs before `paced serve` starts, to set
    up logging or patch something for a test. `host_name`: the name its base URL uses
    (it listens on 127.0.0.1 either way); WebAuthn needs `localhost`, not an address.
    """
    port = free_port()
    base = f"http://{host_name}:{port}"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PACED_")}
    environment.update({"PACED_DATABASE_URL": database_url, **CHEAP_HASHING_ENV, **(env or {})})
    if not database_url.startswith("sqlite"):
        environment.setdefault("PACED_SECRET_KEY", "e2e-secret-key-e2e-secret-key-e2e")
    if host_name != "127.0.0.1":
        environment.setdefault("PACED_BASE_URL", base)
    log = (workdir / f"serve-{port}.log").open("w")
    launcher = ["-c", f"{bootstrap}\nfrom paced.cli.main import main\nmain()"]
    process = subprocess.Popen(
        [
            sys.executable,
            *(launcher if bootstrap else ["-m", "paced"]),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"paced serve exited: {(workdir / log.name).read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("paced serve did not answer within 30 s")
            time.sleep(0.1)
        yield Node(base, process, workdir / log.name)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
