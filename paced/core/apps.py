"""OAuth applications: registration, editing, deletion and client-secret rotation.

An app's owner sees and changes it; to anyone else it does not exist (NotFound).
A confidential app holds at most two client secrets at a time, so that an integration
can rotate without downtime: make a second, deploy it, delete the first. A public app
(native or single-page) has none and must use PKCE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from paced.core import redirect_uris, security_log, token_format
from paced.core.errors import Conflict, Invalid, NotFound
from paced.core.ids import digest, new_id, random_base62
from paced.core.records import App, ClientSecret
from paced.core.security_log import EventName, Origin
from paced.core.store import AppStore, SecurityLog
from paced.core.text import CONTROL_MESSAGE, has_controls

MAX_SECRETS = 2
MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_HOMEPAGE = 2000
CLIENT_ID_LENGTH = 32  # 190 bits: unguessable, though public

NOT_FOUND = "There is no such application."


class AuditedAppStore(AppStore, SecurityLog, Protocol):
    """App changes, recorded in the owner's security log in the same transaction."""


async def _record(
    store: SecurityLog,
    event: EventName,
    app: App,
    now: datetime,
    origin: Origin,
    **extra: str | list[str],
) -> None:
    detail = security_log.app_detail(app, **extra)
    await security_log.record(store, event, now, origin, user_id=app.owner_id, detail=detail)


@dataclass(frozen=True, slots=True)
class AppForm:
    """What the owner writes: redirect URIs as the textarea holds them, one a line."""

    name: str
    redirect_uris: str
    homepage_url: str = ""
    description: str = ""
    # `Enable device flow`: the app may use the device authorization grant (RFC 8628).
    device_flow: bool = False


@dataclass(frozen=True, slots=True)
class Registered:
    app: App
    client_secret: str | None  # shown once; None for a public app


@dataclass(frozen=True, slots=True)
class NewSecret:
    secret: ClientSecret
    value: str  # shown once


def check_name(name: str) -> str | None:
    if not name:
        return "Enter a name, so that people know which app asks for access."
    if len(name) > MAX_NAME:
        return f"Use at most {MAX_NAME} characters."
    if has_controls(name, joiners=True):
        return CONTROL_MESSAGE
    return None


def check_homepage(url: str) -> str | None:
    if not url:
        return None
    if len(url) > MAX_HOMEPAGE:
        return f"Use at most {MAX_HOMEPAGE} characters."
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Enter a full web address, like https://example.com."
    # Shown as a link on the consent screen: only web addresses, never javascript: or data:.
    if parts.scheme not in ("https", "http") or not parts.hostname or "@" in parts.netloc:
        return "Enter a full web address, like https://example.com."
    if any(c.isspace() for c in url) or has_controls(url):
        return "Remove the spaces."
    return None


def _checked(form: AppForm, *, public: bool) -> AppForm:
    """The form with whitespace trimmed, once every field is right; else Invalid with a
    message per field (and per line of the redirect URIs)."""
    form = AppForm(
        name=" ".join(form.name.split()),
        redirect_uris=form.redirect_uris,
        homepage_url=form.homepage_url.strip(),
        description=form.description.strip(),
        device_flow=form.device_flow,
    )
    fields: dict[str, str] = {}
    if message := check_name(form.name):
        fields["name"] = message
    if found := redirect_uris.problems(form.redirect_uris, public=public):
        fields["redirect_uris"] = "\n".join(str(p) for p in found)
    if message := check_homepage(form.homepage_url):
        fields["homepage_url"] = message
    if len(form.description) > MAX_DESCRIPTION:
        fields["description"] = f"Use at most {MAX_DESCRIPTION} characters."
    elif has_controls(form.description, multiline=True, joiners=True):
        fields["description"] = CONTROL_MESSAGE
    if fields:
        raise Invalid(fields=fields)
    return form


def _uris(text: str) -> tuple[str, ...]:
    return tuple(uri for _, uri in redirect_uris.lines(text))


async def register(
    store: AuditedAppStore,
    owner_id: str,
    form: AppForm,
    now: datetime,
    *,
    public: bool,
    origin: Origin,
) -> Registered:
    """A new app; a confidential one gets its first client secret, returned only here."""
    form = _checked(form, public=public)
    app = App(
        id=new_id("app"),
        owner_id=owner_id,
        name=form.name,
        description=form.description,
        homepage_url=form.homepage_url,
        # docs/reference.md §3: public, random, no prefix.
        client_id=random_base62(CLIENT_ID_LENGTH),
        redirect_uris=_uris(form.redirect_uris),
        public=public,
        created_at=now,
        updated_at=now,
        device_flow=form.device_flow,
    )
    await store.add_app(app)
    created = None if public else await add_secret(store, app, now)
    extra: dict[str, str | list[str]] = {"redirect_uris": list(app.redirect_uris)}
    if created is not None and created.secret.hint:
        extra["hint"] = created.secret.hint
    await _record(store, "app_created", app, now, origin, **extra)
    return Registered(app, created.value if created else None)


async def owned(store: AppStore, owner_id: str, app_id: str) -> App:
    """The app, if `owner_id` owns it; anyone else's app is NotFound, never Forbidden."""
    app = await store.app_of_owner(app_id, owner_id)
    if app is None:
        raise NotFound(NOT_FOUND)
    return app


async def by_id(store: AppStore, app_id: str) -> App:
    """Any owner's app, for the operator's command line."""
    app = await store.app_by_id(app_id)
    if app is None:
        raise NotFound(NOT_FOUND)
    return app


async def list_owned(store: AppStore, owner_id: str) -> list[App]:
    return await store.apps_of_owner(owner_id)


async def secrets(store: AppStore, app: App) -> list[ClientSecret]:
    return await store.client_secrets(app.id)


async def update(
    store: AuditedAppStore,
    owner_id: str,
    app_id: str,
    form: AppForm,
    now: datetime,
    *,
    origin: Origin,
) -> App:
    """New name, redirect URIs, homepage, description and device flow; public or not stays
    as it was."""
    app = await owned(store, owner_id, app_id)
    form = _checked(form, public=app.public)
    changed = replace(
        app,
        name=form.name,
        description=form.description,
        homepage_url=form.homepage_url,
        redirect_uris=_uris(form.redirect_uris),
        device_flow=form.device_flow,
        updated_at=now,
    )
    await store.update_app(changed)
    if changed.redirect_uris != app.redirect_uris:
        # Where codes may be sent is what an intruder would change: the owner sees it.
        await _record(
            store,
            "app_redirect_uris_changed",
            changed,
            now,
            origin,
            redirect_uris=list(changed.redirect_uris),
        )
    return changed


async def delete(
    store: AuditedAppStore, owner_id: str, app_id: str, now: datetime, *, origin: Origin
) -> App:
    """The app goes, and with it every code, grant and token issued to it."""
    app = await owned(store, owner_id, app_id)
    await store.delete_app(app.id)
    await _record(store, "app_deleted", app, now, origin)
    return app


async def new_secret(
    store: AuditedAppStore, owner_id: str, app_id: str, now: datetime, *, origin: Origin
) -> NewSecret:
    """Another client secret beside the current one: the old keeps working until deleted."""
    app = await owned(store, owner_id, app_id)
    if app.public:
        # RFC 6749 §2.1: a public client cannot keep a secret, so it gets none.
        raise Invalid("A public application has no client secret: it uses PKCE instead.")
    created = await add_secret(store, app, now)
    await _record(
        store,
        "client_secret_created",
        app,
        now,
        origin,
        secret_id=created.secret.id,
        **_hint(created.secret),
    )
    return created


@dataclass(frozen=True, slots=True)
class Rotation:
    created: NewSecret
    deleted: tuple[ClientSecret, ...]  # the oldest, when the app had MAX_SECRETS


async def rotate_secret(
    store: AuditedAppStore, owner_id: str, app_id: str, now: datetime, *, origin: Origin
) -> Rotation:
    """Two-secret rotation in one step (`paced apps rotate-secret`): a new secret beside
    the newest one, which keeps working until the next rotation. At the limit the oldest
    is deleted first, as the page asks its owner to do."""
    app = await owned(store, owner_id, app_id)
    deleted: list[ClientSecret] = []
    if not app.public:
        current = await store.client_secrets(app.id)
        for oldest in current[: max(0, len(current) - MAX_SECRETS + 1)]:
            await delete_secret(store, owner_id, app_id, oldest.id, now, origin=origin)
            deleted.append(oldest)
    created = await new_secret(store, owner_id, app_id, now, origin=origin)
    return Rotation(created, tuple(deleted))


def _hint(secret: ClientSecret) -> dict[str, str]:
    return {"hint": secret.hint} if secret.hint else {}


async def add_secret(store: AppStore, app: App, now: datetime) -> NewSecret:
    value = token_format.generate(token_format.CLIENT_SECRET)
    secret = ClientSecret(
        id=f"secret_{random_base62(24)}",
        app_id=app.id,
        created_at=now,
        last_used_at=None,
        hint=token_format.hint(value),
    )
    if not await store.add_client_secret(secret, digest(value), limit=MAX_SECRETS):
        raise Conflict(
            f"This application already has {MAX_SECRETS} client secrets. "
            "Delete the one you no longer use, then generate a new one."
        )
    return NewSecret(secret, value)


async def delete_secret(
    store: AuditedAppStore,
    owner_id: str,
    app_id: str,
    secret_id: str,
    now: datetime,
    *,
    origin: Origin,
) -> None:
    """The secret stops working at once."""
    app = await owned(store, owner_id, app_id)
    secret = next((s for s in await store.client_secrets(app.id) if s.id == secret_id), None)
    if secret is None or not await store.delete_client_secret(app.id, secret_id):
        raise NotFound("There is no such client secret.")
    await _record(
        store, "client_secret_deleted", app, now, origin, secret_id=secret_id, **_hint(secret)
    )
