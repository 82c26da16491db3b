"""`paced db upgrade`."""

from __future__ import annotations

import asyncio

import typer

from paced.cli.common import fail, load_settings
from paced.storage.migrate import upgrade

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


async def upgrade_database(url: str) -> None:
    await upgrade(url)


@app.command("upgrade")
def upgrade_command(
    quiet: bool = typer.Option(
        False, "--quiet", hidden=True, help="Say nothing on success (`paced serve` logs it)."
    ),
) -> None:
    """Apply pending migrations."""
    settings = load_settings()
    try:
        asyncio.run(upgrade_database(settings.database_url))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
    if not quiet:
        typer.echo("database is up to date", err=True)
