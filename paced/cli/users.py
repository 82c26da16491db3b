"""`paced users create | disable | enable | unlock | reset-password`."""

from __future__ import annotations

import os

import typer

from paced.cli.common import iso, load_settings, now, print_json, reporting, run
from paced.core import account_status, accounts, password_reset
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


def _status(user: User, **extra: object) -> None:
    print_json({"id": user.id, "email": user.email, **extra})


@app.command("disable")
def disable(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Disable an account: it cannot sign in, its sessions end, and its tokens are refused
    from the very next request."""
    user = run(lambda store: account_status.disable(store, email, now(), origin=COMMAND_LINE))
    _status(user, disabled=True)


@app.command("enable")
def enable(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Enable a disabled account again (its unrevoked tokens work again)."""
    user = run(lambda store: account_status.enable(store, email, now(), origin=COMMAND_LINE))
    _status(user, disabled=False)


@app.command("unlock")
def unlock(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Clear the account's failed-sign-in limit, on every node."""
    when = now()
    user = run(lambda store: account_status.unlock(store, email, when, origin=COMMAND_LINE))
    _status(user, unlocked_at=iso(when))


@app.command("reset-password")
def reset_password(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Print a one-time link (valid 1 hour) that sets a new password for the account."""
    settings = load_settings()
    policy = settings.policy()

    async def use_case(store: Store) -> str:
        return await password_reset.operator_link(store, email, now(), policy, origin=COMMAND_LINE)

    path = run(use_case)
    print_json({"reset_url": settings.with_port("127.0.0.1", 8000).base_url + path})
