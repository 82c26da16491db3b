"""Telling an account's owner by mail what happened to its security, one function per
event. Each queues its message through the store of the use case that made the change,
so in the same unit of work: a change that rolls back sends nothing, and one that holds
is told of even if the process dies before the message goes out.

Every message says what happened, when, from where (the address and browser of the
request), and what to do if it was not the account's owner. None carries a secret: a
credential is named by its name and public hint (`token_format.hint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from paced.core import mail
from paced.core.mail import MailQueue
from paced.core.records import PersonalToken
from paced.core.security_log import Origin

# What the system itself does (`paced purge`): no request, no address.
SYSTEM = Origin(user_agent="paced", operator=True)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def personal_token_created(
    store: MailQueue, token: PersonalToken, hint: str, now: datetime, origin: Origin
) -> None:
    await mail.queue(
        store,
        token.user_id,
        "personal_token_created",
        now,
        origin,
        {
            "name": token.name,
            "hint": hint,
            "scopes": " ".join(token.scopes),
            "expires_at": _when(token.expires_at),
        },
    )


async def app_authorized(
    store: MailQueue,
    user_id: str,
    *,
    app_name: str,
    client_id: str,
    scopes: Sequence[str],
    now: datetime,
    origin: Origin,
) -> None:
    await mail.queue(
        store,
        user_id,
        "app_authorized",
        now,
        origin,
        {"name": app_name, "client_id": client_id, "scopes": " ".join(scopes)},
    )


async def password_changed(
    store: MailQueue, user_id: str, now: datetime, origin: Origin, *, by_reset: bool = False
) -> None:
    await mail.queue(store, user_id, "password_changed", now, origin, {"by_reset": by_reset})


async def two_factor_changed(
    store: MailQueue, user_id: str, now: datetime, origin: Origin, *, method: str, enabled: bool
) -> None:
    """`method` in words: "an authenticator app", "a passkey", "recovery codes"."""
    await mail.queue(
        store, user_id, "two_factor_changed", now, origin, {"method": method, "enabled": enabled}
    )


async def credential_leaked(
    store: MailQueue,
    user_id: str,
    now: datetime,
    origin: Origin,
    *,
    kind: str,
    hint: str,
    name: str,
) -> None:
    """A credential revoked because it was reported leaked. `kind` in words ("personal
    access token", "OAuth access token"), `name` the token's or the app's."""
    await mail.queue(
        store, user_id, "credential_leaked", now, origin, {"kind": kind, "hint": hint, "name": name}
    )


async def token_expiring(store: MailQueue, token: PersonalToken, now: datetime) -> None:
    await mail.queue(
        store,
        token.user_id,
        "token_expiring",
        now,
        SYSTEM,
        {"name": token.name, "token_id": token.id, "expires_at": _when(token.expires_at)},
    )


async def token_unused_revoked(store: MailQueue, token: PersonalToken, now: datetime) -> None:
    """A token revoked by `paced purge` because nobody used it for too long."""
    await mail.queue(
        store,
        token.user_id,
        "token_unused_revoked",
        now,
        SYSTEM,
        {"name": token.name, "hint": token.hint or "pt_secret_…", "token_id": token.id},
    )
