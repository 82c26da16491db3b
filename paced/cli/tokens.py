"""`paced tokens create | list | revoke` (docs/reference.md §2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer

from paced.cli.common import iso, now, print_json, run
from paced.core import accounts, personal_tokens
from paced.core.errors import NotFound
from paced.core.records import PersonalToken, User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage personal access tokens.", no_args_is_help=True)


async def _user(store: Store, email: str) -> User:
    user = await store.user_by_email(accounts.email_key(email))
    if user is None:
        raise NotFound(f"unknown user: {email}")
    return user


def token_json(token: PersonalToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": list(token.scopes),
        "expires_at": iso(token.expires_at),
    }


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="The owner's email address."),
    name: str = typer.Option(..., "--name", help="What the token is for."),
    scope: list[str] | None = typer.Option(
        None, "--scope", help="read or write; repeat for both. Default: all scopes."
    ),
    expires_in: int | None = typer.Option(
        None, "--expires-in", min=1, help="Seconds until it expires. Default: never."
    ),
) -> None:
    """Create a token; prints it, with its secret, as JSON (the only time it is shown)."""
    moment = now()

    async def use_case(store: Store) -> personal_tokens.IssuedToken:
        owner = await _user(store, user)
        request = personal_tokens.NewToken(
            name=name,
            scopes=scope or None,
            expires_at=moment + timedelta(seconds=expires_in) if expires_in else None,
        )
        return await personal_tokens.create(store, owner.id, request, moment, origin=COMMAND_LINE)

    issued = run(use_case)
    token = issued.token
    print_json(
        {
            "id": token.id,
            "name": token.name,
            "token": issued.secret,
            "scopes": list(token.scopes),
            "expires_at": iso(token.expires_at),
        }
    )


@app.command("list")
def list_tokens(
    user: str = typer.Option(..., "--user", help="The owner's email address."),
    as_json: bool = typer.Option(False, "--json", help="A JSON array instead of a table."),
) -> None:
    """List a user's tokens, newest first (never their secrets)."""

    async def use_case(store: Store) -> list[PersonalToken]:
        return await store.personal_tokens_of((await _user(store, user)).id)

    tokens = run(use_case)
    if as_json:
        print_json(
            [
                {
                    **token_json(t),
                    "created_at": iso(t.created_at),
                    "last_used_at": iso(t.last_used_at),
                    "revoked_at": iso(t.revoked_at),
                }
                for t in tokens
            ]
        )
        return
    moment = now()
    rows = [("ID", "NAME", "SCOPES", "CREATED", "LAST USED", "EXPIRES", "STATE")]
    rows += [
        (
            t.id,
            t.name,
            ",".join(t.scopes),
            iso(t.created_at) or "",
            iso(t.last_used_at) or "never",
            iso(t.expires_at) or "never",
            personal_tokens.state(t, moment),
        )
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@app.command("revoke")
def revoke(token_id: str = typer.Argument(..., metavar="ID", help="The token's id, pat_…")) -> None:
    """Revoke a token at once: the next request that uses it fails."""

    async def use_case(store: Store) -> PersonalToken:
        try:
            return await personal_tokens.revoke(
                store, token_id, now(), owner_id=None, origin=COMMAND_LINE
            )
        except NotFound:
            raise NotFound(f"unknown token: {token_id}") from None

    token = run(use_case)
    typer.echo(f"revoked {token.id} ({token.name})", err=True)
