"""The security log (docs/reference.md §7 `/settings/security-log`, `paced audit`): an append-only
record of what happened to an account, with who did it, from where, and when.

Each use case that changes an account's security records its event through the same
store, so in the same unit of work as the change: the event is kept exactly when the
change is. A detected attack (a replayed code, a reused refresh token) is recorded with
the revocation it causes, which the unit of work commits although the request fails.

`detail` holds what a person needs to recognise the event (a token's name, an app's
name, the grant that was revoked), never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from paced.core.records import App, SecurityEvent
from paced.core.store import SecurityLog, SecurityLogReader

EventName = Literal[
    "account_created",
    "sign_in",
    "sign_in_failed",
    "password_changed",
    "password_change_failed",
    "personal_token_created",
    "personal_token_revoked",
    "app_created",
    "app_redirect_uris_changed",
    "app_deleted",
    "client_secret_created",
    "client_secret_deleted",
    "grant_approved",
    "grant_revoked",
    "refresh_token_reused",
    "authorization_code_replayed",
    "credential_leaked",
    "client_secret_leaked",
    "personal_token_unused_revoked",
    "email_verified",
    "password_reset_requested",
    "password_reset_link_created",
    "password_reset",
    "account_disabled",
    "account_enabled",
    "account_unlocked",
    "sign_in_password_accepted",
    "second_factor_failed",
    "two_factor_enabled",
    "two_factor_disabled",
    "two_factor_disable_failed",
    "authenticator_app_added",
    "recovery_codes_generated",
    "recovery_code_used",
    "passkey_added",
    "passkey_add_failed",
    "passkey_removed",
    "session_signed_out",
    "client_registered",
]
EVENTS: tuple[EventName, ...] = get_args(EventName)

# What the security-log page calls each event.
TITLES: dict[str, str] = {
    "account_created": "Account created",
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "password_changed": "Password changed",
    "password_change_failed": "Wrong current password in a password change",
    "personal_token_created": "Personal access token created",
    "personal_token_revoked": "Personal access token revoked",
    "app_created": "OAuth application registered",
    "app_redirect_uris_changed": "OAuth application's redirect URIs changed",
    "app_deleted": "OAuth application deleted",
    "client_secret_created": "Client secret generated",
    "client_secret_deleted": "Client secret deleted",
    "grant_approved": "Application authorized",
    "grant_revoked": "Application access revoked",
    "refresh_token_reused": "Refresh token used twice: access revoked",
    "authorization_code_replayed": "Authorization code used twice: access revoked",
    "credential_leaked": "Credential reported leaked: revoked",
    "client_secret_leaked": "Client secret reported leaked: generate a new one",
    "personal_token_unused_revoked": "Personal access token revoked: unused for too long",
    "email_verified": "Email address verified",
    "password_reset_requested": "Password reset link requested",
    "password_reset_link_created": "Password reset link made by an operator",
    "password_reset": "Password reset from a mailed link",
    "account_disabled": "Account disabled by an operator",
    "account_enabled": "Account enabled by an operator",
    "account_unlocked": "Sign-in limit cleared by an operator",
    "sign_in_password_accepted": "Password accepted; second step asked",
    "second_factor_failed": "Wrong code or passkey at the second step of a sign-in",
    "two_factor_enabled": "Two-factor authentication turned on",
    "two_factor_disabled": "Two-factor authentication turned off",
    "two_factor_disable_failed": "Wrong password when turning two-factor authentication off",
    "authenticator_app_added": "Authenticator app set up",
    "recovery_codes_generated": "New recovery codes made",
    "recovery_code_used": "Recovery code used",
    "passkey_added": "Passkey added",
    "passkey_add_failed": "Wrong password when adding a passkey",
    "passkey_removed": "Passkey removed",
    "session_signed_out": "Session signed out",
    "client_registered": "OAuth client registered itself (RFC 7591)",
}

# The actor of what an operator does with the command line, and of an anonymous attempt.
OPERATOR = "operator"
ANONYMOUS = "anonymous"
PER_PAGE = 50
MAX_PAGE = 10_000
MAX_USER_AGENT = 300
MAX_IP = 45

Detail = Mapping[str, str | int | bool | list[str] | None]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, as the edge saw it; recorded with every event."""

    ip: str = ""
    user_agent: str = ""
    # The command line: an operator acting on the account, not its owner.
    operator: bool = False


COMMAND_LINE = Origin(user_agent="paced command line", operator=True)


async def record(
    log: SecurityLog,
    event: EventName,
    now: datetime,
    origin: Origin,
    *,
    user_id: str | None,
    actor: str | None = None,
    detail: Detail | None = None,
) -> None:
    """Append one event. `actor` is who acted (a user id or a client id); by default the
    account's owner, or the operator when the command line acted."""
    if origin.operator:
        actor = OPERATOR
    await log.add_security_event(
        SecurityEvent(
            id=0,  # given by storage
            user_id=user_id,
            event=event,
            actor=actor or user_id or ANONYMOUS,
            ip=origin.ip[:MAX_IP],
            user_agent=origin.user_agent[:MAX_USER_AGENT],
            detail=dict(detail or {}),
            created_at=now,
        )
    )


def app_detail(app: App, **extra: str | list[str]) -> Detail:
    """How an event names an application: it may be renamed or deleted later."""
    return {"app_id": app.id, "name": app.name, "client_id": app.client_id, **extra}


def title(event: str) -> str:
    """The event in plain words; an unknown name (from a newer version) as it is."""
    return TITLES.get(event) or event.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of an account's log, newest first."""

    events: tuple[SecurityEvent, ...]
    number: int
    has_newer: bool
    has_older: bool


async def page_of(
    store: SecurityLogReader, user_id: str, number: int = 1, *, per_page: int = PER_PAGE
) -> LogPage:
    number = min(max(number, 1), MAX_PAGE)
    found = await store.security_events_of(
        user_id, limit=per_page + 1, offset=(number - 1) * per_page
    )
    return LogPage(tuple(found[:per_page]), number, number > 1, len(found) > per_page)
