"""`paced users create | list | disable | enable | unlock | reset-password`."""

from __future__ import annotations

import os
from typing import Any

import typer

from paced.cli.common import (
    Command,
    iso,
    load_settings,
    now,
    print_json,
    print_table,
    read,
    reporting,
    run,
)
from paced.core import account_status, accounts, password_reset
from paced.core.records import User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Option(..., "--email", metavar="EMAIL", help="The account's email address."),
    password: str | None = typer.Option(
        None, "--password", metavar="PASSWORD", help="Else PACED_PASSWORD, else a prompt."
    ),
    name: str = typer.Option("", "--name", metavar="NAME", help="The person's name."),
    time_zone: str = typer.Option(
        "UTC", "--time-zone", metavar="TZ", help="An IANA time zone name, such as Europe/Paris."
    ),
) -> None:
    """Create an account; print it as JSON."""
    secret = password or os.environ.get("PACED_PASSWORD")
    if secret is None:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    request = accounts.SignUp(email=email, password=secret, name=name, time_zone=time_zone)
    hashing = load_settings().policy().password_hashing
    # Hashed before the transaction, which would hold a running server's writers up.
    account = reporting(lambda: accounts.new_account(request, hashing))

    async def use_case(store: Store) -> User:
        return await accounts.sign_up(store, account, now(), origin=COMMAND_LINE)

    print_json(user_json(run(use_case)))


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "time_zone": user.time_zone,
        "created_at": iso(user.created_at),
    }


@app.command("list")
def list_users(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """List every account, oldest first."""

    async def use_case(store: Store) -> list[User]:
        return await store.all_users()

    users = read(use_case)
    if as_json:
        print_json([user_json(u) for u in users])
        return
    rows = [("ID", "EMAIL", "NAME", "TIME ZONE", "CREATED")]
    rows += [(u.id, u.email, u.name, u.time_zone, iso(u.created_at) or "") for u in users]
    print_table(rows)


def _status(user: User, **extra: object) -> None:
    print_json({"id": user.id, "email": user.email, **extra})


@app.command("disable", cls=Command)
def disable(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Disable an account and refuse its tokens.

    It cannot sign in, its sessions end, and its tokens are refused from the very next
    request."""
    user = run(lambda store: account_status.disable(store, email, now(), origin=COMMAND_LINE))
    _status(user, disabled=True)


@app.command("enable", cls=Command)
def enable(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Enable a disabled account again.

    Its tokens that were not revoked work again."""
    user = run(lambda store: account_status.enable(store, email, now(), origin=COMMAND_LINE))
    _status(user, disabled=False)


@app.command("unlock", cls=Command)
def unlock(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Clear the account's failed-sign-in limit, on every node."""
    when = now()
    user = run(lambda store: account_status.unlock(store, email, when, origin=COMMAND_LINE))
    _status(user, unlocked_at=iso(when))


@app.command("reset-password", cls=Command)
def reset_password(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Print a one-time password reset link.

    The link is valid for 1 hour and sets a new password for the account."""
    settings = load_settings()
    policy = settings.policy()

    async def use_case(store: Store) -> str:
        return await password_reset.operator_link(store, email, now(), policy, origin=COMMAND_LINE)

    path = run(use_case)
    print_json({"reset_url": settings.with_port("127.0.0.1", 8000).base_url + path})
