"""`/metrics` for `paced serve`: Prometheus, on a listener of its own, summing every worker.

prometheus-client's multiprocess mode: each worker writes its counts to files in
PROMETHEUS_MULTIPROC_DIR, and the listener, in the `paced serve` process itself, adds
them up. The variable must be set before any worker imports prometheus_client, so this
runs before uvicorn starts the app, and prometheus_client is imported only here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_listener(host: str, port: int) -> Iterator[str | None]:
    """Serve the metrics on host:port while the block runs; yield their URL (None: off).

    The folder is ours (a new temporary one, removed afterwards) unless the operator named
    one in PROMETHEUS_MULTIPROC_DIR, which is emptied first: counts left by an earlier run
    would be added to this one's.
    """
    if not port:
        yield None
        return
    named = os.environ.get(ENV)
    folder = Path(named) if named else Path(tempfile.mkdtemp(prefix="paced-metrics-"))
    if named:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    os.environ[ENV] = str(folder)

    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    # prometheus_client leaves MultiProcessCollector.__init__ unannotated.
    MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError:
        if not named:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shown = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{shown}:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        if not named:
            shutil.rmtree(folder, ignore_errors=True)
