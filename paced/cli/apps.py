"""`paced apps create | list | show | rotate-secret | delete`: OAuth applications, for
operators. Each command calls the core use case the Developer settings page calls, on
behalf of the app's owner."""

from __future__ import annotations

from typing import Any

import typer

from paced.cli.common import Command, fail, iso, now, print_json, print_table, public_id, read, run
from paced.core import accounts, apps, redirect_uris
from paced.core.errors import Invalid, NotFound
from paced.core.records import App, ClientSecret, User
from paced.core.security_log import COMMAND_LINE
from paced.storage.store import Store

app = typer.Typer(help="Manage OAuth applications.", no_args_is_help=True)

LISTING = "paced apps list --owner EMAIL"


async def _owner(store: Store, email: str) -> User:
    user = await store.user_by_email(accounts.email_key(email))
    if user is None:
        raise NotFound(f"unknown user: {email}")
    return user


async def _app(store: Store, app_id: str) -> App:
    try:
        return await apps.by_id(store, app_id)
    except NotFound:
        raise NotFound(f"unknown application: {app_id}") from None


def _owner_of(app: App) -> str:
    """The owner the app's use cases act for; a client that registered itself has none,
    and `paced purge` removes it once it has gone a day without a grant."""
    if app.owner_id is None:
        raise Invalid(f"{app.id} registered itself and has no owner to act for")
    return app.owner_id


def secret_json(secret: ClientSecret) -> dict[str, Any]:
    return {
        "id": secret.id,
        "hint": secret.hint,
        "created_at": iso(secret.created_at),
        "last_used_at": iso(secret.last_used_at),
    }


def app_json(registered: App, secrets: list[ClientSecret]) -> dict[str, Any]:
    """An app as `list --json` and `show --json` print it: its secrets by their hints."""
    return {
        "id": registered.id,
        "name": registered.name,
        "client_id": registered.client_id,
        "redirect_uris": list(registered.redirect_uris),
        "public": registered.public,
        "client_secrets": [secret_json(s) for s in secrets],
        "created_at": iso(registered.created_at),
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
    owner: str = typer.Option(..., "--owner", metavar="EMAIL", help="The owner's email address."),
    name: str = typer.Option(
        ..., "--name", metavar="NAME", help="Shown to people asked to authorize it."
    ),
    redirect_uri: list[str] = typer.Option(
        ...,
        "--redirect-uri",
        metavar="URI",
        help="Where authorization answers go; repeat for several.",
    ),
    public: bool = typer.Option(
        False, "--public", help="A native or single-page app: no client secret, PKCE required."
    ),
    device_flow: bool = typer.Option(
        False, "--device-flow", help="Allow the device authorization grant (RFC 8628)."
    ),
) -> None:
    """Register an app; print it, with its secret, as JSON.

    The client secret is shown this once only."""
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
    owner: str = typer.Option(..., "--owner", metavar="EMAIL", help="The owner's email address."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """List a user's apps, newest first.

    Each with its client secrets' hints (pt_client_…x9Qa), never the secrets."""

    async def use_case(store: Store) -> list[tuple[App, list[ClientSecret]]]:
        owned = await apps.list_owned(store, (await _owner(store, owner)).id)
        return [(a, await apps.secrets(store, a)) for a in owned]

    owned = read(use_case)
    if as_json:
        print_json([app_json(a, secrets) for a, secrets in owned])
        return
    rows = [("ID", "NAME", "CLIENT ID", "TYPE", "SECRETS", "CREATED", "REDIRECT URIS")]
    rows += [
        (
            a.id,
            a.name,
            a.client_id,
            "public" if a.public else "confidential",
            " ".join(s.hint or "pt_client_…" for s in secrets) or "-",
            iso(a.created_at) or "",
            " ".join(a.redirect_uris),
        )
        for a, secrets in owned
    ]
    print_table(rows)


@app.command("show", cls=Command)
def show(
    app_id: str = typer.Argument(..., metavar="ID", help="The app's id, app_…"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object instead of text."),
) -> None:
    """Show an app, its owner and its secrets' hints."""
    app_id = public_id(app_id, "app", listing=LISTING)

    async def use_case(store: Store) -> tuple[App, str, list[ClientSecret]]:
        found = await _app(store, app_id)
        owner = await store.user_by_id(found.owner_id) if found.owner_id else None
        return found, owner.email if owner else "", await apps.secrets(store, found)

    found, owner, secrets = read(use_case)
    shown = {**app_json(found, secrets), "owner": owner, "updated_at": iso(found.updated_at)}
    if as_json:
        print_json(shown)
        return
    lines = [
        ("id", found.id),
        ("name", found.name),
        ("owner", owner),
        ("client id", found.client_id),
        ("type", "public" if found.public else "confidential"),
        ("created", iso(found.created_at) or ""),
        ("updated", iso(found.updated_at) or ""),
        *(("redirect URI", uri) for uri in found.redirect_uris),
        *(
            (
                "client secret",
                f"{s.hint or 'pt_client_…'} (created {iso(s.created_at)},"
                f" last used {iso(s.last_used_at) or 'never'})",
            )
            for s in secrets
        ),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        typer.echo(f"{label.ljust(width)}  {value}")


@app.command("rotate-secret", cls=Command)
def rotate_secret(
    app_id: str = typer.Argument(..., metavar="ID", help="The app's id, app_…"),
) -> None:
    """Give an app a new client secret; print it as JSON.

    The secret is shown this once only. The newest of the app's current secrets keeps
    working until the next rotation; with two already, the oldest is deleted first."""
    app_id = public_id(app_id, "app", listing=LISTING)
    moment = now()

    async def use_case(store: Store) -> apps.Rotation:
        found = await _app(store, app_id)
        return await apps.rotate_secret(
            store, _owner_of(found), found.id, moment, origin=COMMAND_LINE
        )

    rotation = run(use_case)
    for deleted in rotation.deleted:
        typer.echo(f"deleted the oldest client secret, {deleted.hint or deleted.id}", err=True)
    created = rotation.created.secret
    print_json({"id": app_id, "client_secret": rotation.created.value, "hint": created.hint})


@app.command("delete", cls=Command)
def delete(
    app_id: str = typer.Argument(..., metavar="ID", help="The app's id, app_…"),
) -> None:
    """Delete an app, ending every grant of it.

    Every code and token issued to it stops working at once."""
    app_id = public_id(app_id, "app", listing=LISTING)
    moment = now()

    async def use_case(store: Store) -> App:
        found = await _app(store, app_id)
        return await apps.delete(store, _owner_of(found), found.id, moment, origin=COMMAND_LINE)

    deleted = run(use_case)
    typer.echo(f"deleted {deleted.id} ({deleted.name}): every grant of it has ended", err=True)
