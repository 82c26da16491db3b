"""`paced apps create | list` (SPEC §2)."""

from __future__ import annotations

from typing import Any

import typer

from paced.cli.common import fail, iso, now, print_json, run
from paced.core import accounts, apps, redirect_uris
from paced.core.errors import NotFound
from paced.core.records import App, User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage OAuth applications.", no_args_is_help=True)


async def _owner(store: Store, email: str) -> User:
    user = await store.user_by_email(accounts.email_key(email))
    if user is None:
        raise NotFound(f"unknown user: {email}")
    return user


def app_json(registered: App) -> dict[str, Any]:
    return {
        "id": registered.id,
        "name": registered.name,
        "client_id": registered.client_id,
        "redirect_uris": list(registered.redirect_uris),
    }


def _check_uris(uris: list[str], *, public: bool) -> str:
    """The URIs as the form's one-a-line text, once each is right; else exit 1."""
    for uri in uris:
        if not uri.strip() or "\n" in uri or "\r" in uri:
            fail(f"invalid redirect URI {uri!r}: give one URI per --redirect-uri")
    found = redirect_uris.problems("\n".join(uris), public=public)
    if found:
        fail("; ".join(f"invalid redirect URI {p.uri}: {p.message.rstrip('.')}" for p in found))
    return "\n".join(uris)


@app.command("create")
def create(
    owner: str = typer.Option(..., "--owner", help="The owner's email address."),
    name: str = typer.Option(..., "--name", help="Shown to people asked to authorize it."),
    redirect_uri: list[str] = typer.Option(
        ..., "--redirect-uri", help="Where authorization answers go; repeat for several."
    ),
    public: bool = typer.Option(
        False, "--public", help="A native or single-page app: no client secret, PKCE required."
    ),
    device_flow: bool = typer.Option(
        False, "--device-flow", help="Allow the device authorization grant (RFC 8628)."
    ),
) -> None:
    """Register an app; prints it, with its client secret, as JSON (the only time it is shown)."""
    uris = _check_uris(redirect_uri, public=public)
    moment = now()

    async def use_case(store: Store) -> apps.Registered:
        user = await _owner(store, owner)
        return await apps.register(
            store,
            user.id,
            apps.AppForm(name=name, redirect_uris=uris, device_flow=device_flow),
            moment,
            public=public,
            origin=COMMAND_LINE,
        )

    registered = run(use_case)
    created = registered.app
    print_json(
        {
            "id": created.id,
            "name": created.name,
            "client_id": created.client_id,
            "client_secret": registered.client_secret,
            "redirect_uris": list(created.redirect_uris),
        }
    )


@app.command("list")
def list_apps(
    owner: str = typer.Option(..., "--owner", help="The owner's email address."),
    as_json: bool = typer.Option(False, "--json", help="A JSON array instead of a table."),
) -> None:
    """List a user's apps, newest first (never their secrets)."""

    async def use_case(store: Store) -> list[App]:
        return await apps.list_owned(store, (await _owner(store, owner)).id)

    owned = run(use_case)
    if as_json:
        print_json([{**app_json(a), "created_at": iso(a.created_at)} for a in owned])
        return
    rows = [("ID", "NAME", "CLIENT ID", "TYPE", "CREATED", "REDIRECT URIS")]
    rows += [
        (
            a.id,
            a.name,
            a.client_id,
            "public" if a.public else "confidential",
            iso(a.created_at) or "",
            " ".join(a.redirect_uris),
        )
        for a in owned
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
