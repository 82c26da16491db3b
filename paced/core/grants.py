"""What a user has granted to applications, and taking it back (docs/reference.md §6, §7).

An app appears once however many approvals the user gave it: with the union of their
scopes, the first approval's time, and the latest use of any of them. Revoking an app
ends every grant of the user to it, with every access and refresh token of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import scopes, security_log
from paced.core.errors import NotFound
from paced.core.records import App
from paced.core.security_log import Origin
from paced.core.store import AuthorizedAppStore, SecurityLog

NOT_AUTHORIZED = "This application has no access to your account."


class AuditedAuthorizedAppStore(AuthorizedAppStore, SecurityLog, Protocol):
    """Revocations, recorded in the user's security log in the same transaction."""


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    app: App
    scopes: tuple[str, ...]
    first_granted_at: datetime
    last_used_at: datetime | None


async def authorized_apps(
    store: AuthorizedAppStore, user_id: str, *, app_id: str | None = None
) -> list[AuthorizedApp]:
    """The apps the user granted access and has not revoked, by name."""
    by_app: dict[str, AuthorizedApp] = {}
    for app, grant in await store.live_grants_with_apps(user_id, app_id):
        seen = by_app.get(app.id)
        if seen is None:
            by_app[app.id] = AuthorizedApp(app, grant.scopes, grant.created_at, grant.last_used_at)
            continue
        used = [t for t in (seen.last_used_at, grant.last_used_at) if t is not None]
        by_app[app.id] = AuthorizedApp(
            app,
            scopes.normalize((*seen.scopes, *grant.scopes)),
            min(seen.first_granted_at, grant.created_at),
            max(used) if used else None,
        )
    return sorted(by_app.values(), key=lambda a: (a.app.name.casefold(), a.app.id))


async def authorized_app(store: AuthorizedAppStore, user_id: str, app_id: str) -> AuthorizedApp:
    found = await authorized_apps(store, user_id, app_id=app_id)
    if not found:
        raise NotFound(NOT_AUTHORIZED)
    return found[0]


async def revoke_app(
    store: AuditedAuthorizedAppStore,
    user_id: str,
    app_id: str,
    now: datetime,
    *,
    origin: Origin,
) -> AuthorizedApp:
    """End every grant of the user to the app at once; NotFound when there is none."""
    authorized = await authorized_app(store, user_id, app_id)
    await store.revoke_user_app_grants(user_id, app_id, now)
    app = authorized.app
    await security_log.record(
        store,
        "grant_revoked",
        now,
        origin,
        user_id=user_id,
        detail={"app_id": app.id, "name": app.name, "client_id": app.client_id},
    )
    return authorized
