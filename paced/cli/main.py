"""`paced`: the console script."""

from __future__ import annotations

import typer

from paced.cli import apps, audit, db, purge, serve, tokens, users

app = typer.Typer(
    name="paced",
    help="Authentication for the Paced Email API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(apps.app, name="apps")
app.command("audit")(audit.audit)
app.command("purge")(purge.purge_command)


def main() -> None:
    app()
