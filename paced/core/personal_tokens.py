"""Personal access tokens (docs/reference.md §3, §4): named, scoped, optionally expiring,
shown once.

The secret is `pt_secret_` + 30 random base62 characters + a CRC-32 checksum
(`paced.core.token_format`); only its SHA-256 digest is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paced.core import notifications, security_log, token_format
from paced.core import scopes as scope_rules
from paced.core.errors import Invalid, InvalidScope, NotFound
from paced.core.ids import digest, new_id
from paced.core.mail import MailQueue
from paced.core.records import PersonalToken
from paced.core.security_log import Origin
from paced.core.store import PersonalTokenStore, SecurityLog
from paced.core.text import CONTROL_MESSAGE, has_controls

MAX_NAME = 100
# The choices of the `Create a token` form, in days; the form preselects DEFAULT_DAYS.
EXPIRY_DAYS: tuple[int, ...] = (7, 30, 60, 90)
DEFAULT_DAYS = 30
EXPIRY_CHOICES: tuple[str, ...] = (*(str(days) for days in EXPIRY_DAYS), "custom", "none")

TokenState = Literal["active", "expired", "revoked"]

NOT_FOUND = "There is no such token."


class AuditedTokenStore(PersonalTokenStore, SecurityLog, MailQueue, Protocol):
    """Creating and revoking tokens, recorded in the security log in the same transaction
    (and a new one told of by mail)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the only moment its secret exists outside the client."""

    token: PersonalToken
    secret: str = field(repr=False)


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid(fields={"name": "Give the token a name, such as what it is for."})
    if len(name) > MAX_NAME:
        raise Invalid(fields={"name": f"Use at most {MAX_NAME} characters."})
    if has_controls(name, joiners=True):
        raise Invalid(fields={"name": CONTROL_MESSAGE})
    return name


def check_scopes(requested: Iterable[str] | None) -> tuple[str, ...]:
    """The scopes chosen, in canonical order; none named means all of them
    (docs/reference.md §4)."""
    if requested is None:
        return scope_rules.ALL
    try:
        chosen = scope_rules.normalize(requested)
    except InvalidScope as error:
        raise Invalid(fields={"scopes": error.description}) from None
    if not chosen:
        raise Invalid(fields={"scopes": "Choose at least one scope."})
    return chosen


def expiry_from_choice(
    choice: str, custom_date: str, *, now: datetime, time_zone: str
) -> datetime | None:
    """The expiry picked on the form: a number of days, a custom date, or none.

    A custom date is valid through the end of that day in the user's time zone.
    """
    if choice == "none":
        return None
    if choice in EXPIRY_CHOICES and choice != "custom":
        return now + timedelta(days=int(choice))
    if choice != "custom":
        raise Invalid(fields={"expiration": "Choose when the token expires."})
    try:
        day = date.fromisoformat(custom_date.strip())
    except ValueError:
        raise Invalid(fields={"expiration_date": "Enter a date like 2030-12-31."}) from None
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    if day <= now.astimezone(zone).date():
        raise Invalid(fields={"expiration_date": "Choose a date after today."})
    if day.year > now.year + 100:
        raise Invalid(fields={"expiration_date": "Choose a date in the next hundred years."})
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(now.tzinfo)


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is not None and expires_at <= now:
        raise Invalid(fields={"expiration": "Choose an expiry in the future."})
    return expires_at


def state(token: PersonalToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@dataclass(frozen=True, slots=True)
class NewToken:
    """What the `Create a token` form or `paced tokens create` asks for.

    The expiry is either `expires_at` (the CLI) or, when `expiration` is set, the form's
    choice: a number of days of EXPIRY_CHOICES, "custom" with `expiration_date`, or "none".
    """

    name: str
    scopes: Sequence[str] | None = None  # None: all of them (docs/reference.md §4)
    expires_at: datetime | None = None
    expiration: str | None = None
    expiration_date: str = ""
    time_zone: str = "UTC"


def _expiry(request: NewToken, now: datetime) -> datetime | None:
    if request.expiration is None:
        return check_expiry(request.expires_at, now)
    return expiry_from_choice(
        request.expiration, request.expiration_date, now=now, time_zone=request.time_zone
    )


async def create(
    store: AuditedTokenStore, user_id: str, request: NewToken, now: datetime, *, origin: Origin
) -> IssuedToken:
    """A new token for `user_id`; every broken rule is reported beside its field."""
    fields: dict[str, str] = {}
    for check in (
        lambda: check_name(request.name),
        lambda: check_scopes(request.scopes),
        lambda: _expiry(request, now),
    ):
        try:
            check()
        except Invalid as error:
            fields.update(error.fields)
    if fields:
        raise Invalid(fields=fields)
    secret = token_format.generate(token_format.PERSONAL)
    token = PersonalToken(
        id=new_id("pat"),
        user_id=user_id,
        name=check_name(request.name),
        scopes=check_scopes(request.scopes),
        created_at=now,
        expires_at=_expiry(request, now),
        last_used_at=None,
        revoked_at=None,
        hint=token_format.hint(secret),
    )
    await store.add_personal_token(token, digest(secret))
    await security_log.record(
        store, "personal_token_created", now, origin, user_id=user_id, detail=_detail(token)
    )
    await notifications.personal_token_created(store, token, token_format.hint(secret), now, origin)
    return IssuedToken(token=token, secret=secret)


def _detail(token: PersonalToken) -> security_log.Detail:
    detail: dict[str, str | list[str]] = {
        "token_id": token.id,
        "name": token.name,
        "scopes": list(token.scopes),
    }
    if token.hint:
        detail["hint"] = token.hint
    return detail


@dataclass(frozen=True, slots=True)
class Listed:
    """A token as Developer settings and `paced tokens list` show it."""

    token: PersonalToken
    state: TokenState


async def list_owned(store: PersonalTokenStore, user_id: str, now: datetime) -> list[Listed]:
    """The user's tokens, each with its state now."""
    return [Listed(t, state(t, now)) for t in await store.personal_tokens_of(user_id)]


async def owned(store: PersonalTokenStore, token_id: str, user_id: str) -> PersonalToken:
    """The token when `user_id` owns it; another user's token does not exist for them."""
    token = await store.personal_token_by_id(token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(NOT_FOUND)
    return token


async def revoke(
    store: AuditedTokenStore,
    token_id: str,
    now: datetime,
    *,
    owner_id: str | None,
    origin: Origin,
) -> PersonalToken:
    """Revoke at once: the very next request with it fails. `owner_id` None is an
    operator's revocation (the CLI). Revoking twice keeps the first time."""
    token = await store.personal_token_by_id(token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(NOT_FOUND)
    if token.revoked_at is not None:
        return token
    if await store.revoke_personal_token(token.id, now):
        await security_log.record(
            store,
            "personal_token_revoked",
            now,
            origin,
            user_id=token.user_id,
            detail=_detail(token),
        )
        return replace(token, revoked_at=now)
    return await store.personal_token_by_id(token.id) or token  # revoked meanwhile
