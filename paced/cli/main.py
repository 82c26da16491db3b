"""`paced`: the console script."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from paced.cli import apps, audit, check, db, purge, serve, tokens, users

app = typer.Typer(
    name="paced",
    help="Authentication for the Paced Email API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: Typer's rich panels print a type beside every option (`<bool>`).
    rich_markup_mode=None,
)


def package_version() -> str:
    try:
        return version("paced")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"paced {package_version()}")
        raise typer.Exit()


@app.callback()
def options(
    show_version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Authentication for the Paced Email API."""


app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(apps.app, name="apps")
app.command("audit")(audit.audit)
app.command("purge")(purge.purge_command)
app.command("check")(check.check)


def main() -> None:
    app(prog_name="paced")
