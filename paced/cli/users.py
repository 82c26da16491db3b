"""`paced users create`."""

from __future__ import annotations

import os

import typer

from paced.cli.common import iso, load_settings, now, print_json, reporting, run
from paced.core import accounts
from paced.core.records import User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Option(..., "--email", help="The account's email address."),
    password: str | None = typer.Option(
        None, "--password", help="Else PACED_PASSWORD, else a prompt."
    ),
    name: str = typer.Option("", "--name"),
    time_zone: str = typer.Option("UTC", "--time-zone", help="An IANA time zone name."),
) -> None:
    """Create an account; prints it as JSON."""
    secret = password or os.environ.get("PACED_PASSWORD")
    if secret is None:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    request = accounts.SignUp(email=email, password=secret, name=name, time_zone=time_zone)
    hashing = load_settings().policy().password_hashing
    # Hashed before the transaction, which would hold a running server's writers up.
    account = reporting(lambda: accounts.new_account(request, hashing))

    async def use_case(store: Store) -> User:
        return await accounts.sign_up(store, account, now(), origin=COMMAND_LINE)

    user = run(use_case)
    print_json(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "time_zone": user.time_zone,
            "created_at": iso(user.created_at),
        }
    )
