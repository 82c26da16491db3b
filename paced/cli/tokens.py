"""`paced tokens create | list | revoke`: personal access tokens, for operators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer

from paced.cli.common import Command, iso, now, print_json, print_table, public_id, read, run
from paced.core import accounts, personal_tokens
from paced.core.errors import NotFound
from paced.core.records import PersonalToken, User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage personal access tokens.", no_args_is_help=True)

DEFAULT_EXPIRY = timedelta(days=personal_tokens.DEFAULT_DAYS)  # as on the page


async def _user(store: Store, email: str) -> User:
    user = await store.user_by_email(accounts.email_key(email))
    if user is None:
        raise NotFound(f"unknown user: {email}")
    return user


def token_json(token: PersonalToken) -> dict[str, Any]:
    """A token as `list --json` prints it: never its secret, but its hint."""
    return {
        "id": token.id,
        "name": token.name,
        "hint": token.hint,
        "scopes": list(token.scopes),
        "expires_at": iso(token.expires_at),
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
    }


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", metavar="EMAIL", help="The owner's email address."),
    name: str = typer.Option(..., "--name", metavar="NAME", help="What the token is for."),
    scope: list[str] | None = typer.Option(
        None,
        "--scope",
        metavar="SCOPE",
        help="read or write; repeat for both. Default: all scopes.",
    ),
    expires_in: int | None = typer.Option(
        None,
        "--expires-in",
        metavar="SECONDS",
        min=1,
        help=f"Seconds until it expires. Default: {personal_tokens.DEFAULT_DAYS} days.",
    ),
    no_expiration: bool = typer.Option(
        False,
        "--no-expiration",
        help="A token that never expires: it works until revoked. Choose it deliberately.",
    ),
) -> None:
    """Create a token; print it, with its secret, as JSON.

    The secret is shown this once only. The token expires in 30 days unless
    --expires-in or --no-expiration says otherwise."""
    if no_expiration and expires_in is not None:
        raise typer.BadParameter(
            "give --expires-in or --no-expiration, not both", param_hint="'--no-expiration'"
        )
    moment = now()
    lifetime: timedelta | None = None  # --no-expiration
    if not no_expiration:
        lifetime = timedelta(seconds=expires_in) if expires_in else DEFAULT_EXPIRY

    async def use_case(store: Store) -> personal_tokens.IssuedToken:
        owner = await _user(store, user)
        request = personal_tokens.NewToken(
            name=name,
            scopes=scope or None,
            expires_at=moment + lifetime if lifetime else None,
        )
        return await personal_tokens.create(store, owner.id, request, moment, origin=COMMAND_LINE)

    issued = run(use_case)
    token = issued.token
    print_json(
        {
            "id": token.id,
            "name": token.name,
            "token": issued.secret,
            "hint": token.hint,
            "scopes": list(token.scopes),
            "expires_at": iso(token.expires_at),
        }
    )


@app.command("list")
def list_tokens(
    user: str = typer.Option(..., "--user", metavar="EMAIL", help="The owner's email address."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """List a user's tokens, newest first.

    Each with its hint (pt_secret_…x9Qa), never its secret."""

    async def use_case(store: Store) -> list[PersonalToken]:
        return await store.personal_tokens_of((await _user(store, user)).id)

    tokens = read(use_case)
    if as_json:
        print_json([token_json(t) for t in tokens])
        return
    moment = now()
    rows = [("ID", "NAME", "HINT", "SCOPES", "CREATED", "LAST USED", "EXPIRES", "STATE")]
    rows += [
        (
            t.id,
            t.name,
            t.hint or "pt_secret_…",
            ",".join(t.scopes),
            iso(t.created_at) or "",
            iso(t.last_used_at) or "never",
            iso(t.expires_at) or "never",
            personal_tokens.state(t, moment),
        )
        for t in tokens
    ]
    print_table(rows)


@app.command("revoke", cls=Command)
def revoke(
    token_id: str = typer.Argument(..., metavar="ID", help="The token's id, pat_…"),
) -> None:
    """Revoke a token at once.

    The next request that uses it fails. Revoking a revoked token changes nothing."""
    token_id = public_id(token_id, "pat", listing="paced tokens list --user EMAIL")
    moment = now()

    async def use_case(store: Store) -> PersonalToken:
        try:
            return await personal_tokens.revoke(
                store, token_id, moment, owner_id=None, origin=COMMAND_LINE
            )
        except NotFound:
            raise NotFound(f"unknown token: {token_id}") from None

    token = run(use_case)
    described = f"{token.id} ({token.name}, {token.hint or 'pt_secret_…'})"
    if token.revoked_at != moment:
        typer.echo(f"{described} was already revoked, at {iso(token.revoked_at)}", err=True)
        return
    typer.echo(f"revoked {described}", err=True)
