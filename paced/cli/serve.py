"""`paced serve`: migrate, then serve HTTP with uvicorn."""

from __future__ import annotations

import asyncio
import os

import typer
import uvicorn

from paced.cli.common import fail, load_settings
from paced.cli.db import upgrade_database
from paced.settings import ConfigError


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log"),
) -> None:
    """Apply pending migrations, then serve HTTP."""
    settings = load_settings().with_port(host, port)
    try:
        # Resolved here, before any worker starts, so that all of them share one key.
        settings.resolved_secret_key()
    except ConfigError as error:
        fail(str(error))
    try:
        asyncio.run(upgrade_database(settings.database_url))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
    # Workers build their app from the environment: hand them the resolved origin.
    os.environ["PACED_BASE_URL"] = settings.base_url
    typer.echo(f"paced is serving {settings.base_url} (database: {_describe(settings)})", err=True)
    uvicorn.run(
        "paced.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=20,
    )


def _describe(settings: object) -> str:
    url: str = getattr(settings, "database_url", "")
    return "PostgreSQL" if url.startswith("postgres") else f"SQLite at {url.split(':///', 1)[-1]}"
