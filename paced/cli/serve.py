"""`paced serve`: migrate, then serve HTTP with uvicorn."""

from __future__ import annotations

import logging
import logging.config
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from types import FrameType

import typer
import uvicorn

from paced.cli.common import fail, load_settings
from paced.cli.metrics_listener import metrics_listener
from paced.logs import logging_config, resolve_format
from paced.settings import ConfigError


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", metavar="ADDRESS", help="Listen on this address."
    ),
    port: int = typer.Option(
        8000, "--port", metavar="PORT", min=0, max=65535, help="Listen on this port."
    ),
    workers: int = typer.Option(1, "--workers", metavar="N", min=1, help="Worker processes."),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="Write one log line per request."
    ),
) -> None:
    """Apply pending migrations, then serve HTTP."""
    settings = load_settings().with_port(host, port)
    try:
        # Resolved here, before any worker starts, so that all of them share one key.
        settings.resolved_secret_key()
    except ConfigError as error:
        fail(str(error))
    # From here on, every line is a log record in the one format (JSON or text).
    log_format = resolve_format(settings.log_format)
    log_config = logging_config(log_format)
    logging.config.dictConfig(log_config)
    log = logging.getLogger("paced.serve")
    database = _describe(settings)
    # In a process of its own, so that the server never holds Alembic in memory; what it
    # says is logged here, so that it is a record like the others.
    migrated = subprocess.run(
        [sys.executable, "-m", "paced", "db", "upgrade", "--quiet"],
        check=False,
        capture_output=True,
        text=True,
    )
    if migrated.returncode != 0:
        said = migrated.stderr.strip() or f"exit status {migrated.returncode}"
        log.error("the database could not be migrated: %s", said)
        raise typer.Exit(migrated.returncode)
    log.info("database is up to date", extra={"fields": {"database": database}})
    # Workers build their app from the environment: hand them the resolved origin.
    os.environ["PACED_BASE_URL"] = settings.base_url
    if not access_log:
        os.environ["PACED_ACCESS_LOG"] = "false"
    with ExitStack() as stack:
        try:
            metrics_url = stack.enter_context(
                metrics_listener(settings.metrics_host, settings.metrics_port)
            )
        except OSError as error:
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            fail(f"cannot serve metrics on {where}: {error}")
        # The URL to open: in the words of a text line, and as a field of a JSON one too.
        url = {"url": settings.base_url} if log_format == "json" else {}
        log.info(
            "paced is serving %s",
            settings.base_url,
            extra={"fields": {**url, "database": database}},
        )
        if metrics_url:
            log.info("metrics at %s", metrics_url)
        # uvicorn re-raises the stopping signal once it has shut down gracefully; let that
        # end the process normally, so that the blocks above clean up.
        for stopping in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stopping, _exit_normally)
        uvicorn.run(
            "paced.web.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Proxy headers are read by the app, from PACED_TRUSTED_PROXIES only.
            proxy_headers=False,
            server_header=False,
            # A bounded request head, whichever HTTP parser runs (paced.web.limits).
            http="paced.web.limits:HttpProtocol",
            h11_max_incomplete_event_size=settings.max_header_bytes,
            log_config=log_config,
            # paced writes the access log itself (paced.web.edge, paced.logs).
            access_log=False,
            # SIGTERM: stop accepting, let in-flight requests finish, then exit.
            # uvicorn annotates this `int | None` but hands it to asyncio.wait_for, which takes
            # any float: PACED_SHUTDOWN_TIMEOUT may be fractional.
            timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]
        )


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _describe(settings: object) -> str:
    url: str = getattr(settings, "database_url", "")
    return "PostgreSQL" if url.startswith("postgres") else f"SQLite at {url.split(':///', 1)[-1]}"
