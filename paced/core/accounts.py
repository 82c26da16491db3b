"""Accounts: sign-up, log-in and profile rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import available_timezones

from paced.core import passwords, security_log
from paced.core.errors import Conflict, Invalid
from paced.core.ids import new_id
from paced.core.records import User
from paced.core.security_log import Origin
from paced.core.store import SecurityLog, UserStore
from paced.core.text import CONTROL_MESSAGE, has_controls

MAX_NAME = 100
MAX_EMAIL = 254
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIME_ZONES: tuple[str, ...] = tuple(sorted(available_timezones() | {"UTC"}))
_TIME_ZONES = frozenset(TIME_ZONES)

LOGIN_FAILED = "Incorrect email or password."


class AccountStore(UserStore, SecurityLog, Protocol):
    """Accounts, with the security log their sign-ins and changes are recorded in."""


def email_key(email: str) -> str:
    """Emails are unique case-insensitively."""
    return email.strip().casefold()


def check_email(email: str) -> str:
    email = email.strip()
    if not email:
        raise Invalid(fields={"email": "Enter your email address."})
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or has_controls(email):
        raise Invalid(fields={"email": "Enter an email address like name@example.com."})
    return email


def check_name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME:
        raise Invalid(fields={"name": f"Use at most {MAX_NAME} characters."})
    if has_controls(name):
        raise Invalid(fields={"name": CONTROL_MESSAGE})
    return name


def check_time_zone(time_zone: str) -> str:
    time_zone = time_zone.strip()
    if time_zone not in _TIME_ZONES:
        raise Invalid(fields={"time_zone": "Choose a time zone such as Europe/Paris or UTC."})
    return time_zone


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    password: str
    name: str = ""
    time_zone: str = "UTC"


async def sign_up(
    store: AccountStore,
    request: SignUp,
    now: datetime,
    hashing: passwords.Hashing = passwords.DEFAULT,
    *,
    origin: Origin,
) -> User:
    fields: dict[str, str] = {}
    for check in (
        lambda: check_email(request.email),
        lambda: check_name(request.name),
        lambda: passwords.check_rules(request.password),
        lambda: check_time_zone(request.time_zone),
    ):
        try:
            check()
        except Invalid as error:
            fields.update(error.fields)
    if fields:
        raise Invalid(fields=fields)
    email = check_email(request.email)
    user = User(
        id=new_id("user"),
        email=email,
        name=check_name(request.name),
        time_zone=check_time_zone(request.time_zone),
        created_at=now,
        updated_at=now,
    )
    added = await store.add_user(
        user=user,
        email_key=email_key(email),
        password_hash=passwords.hasher(hashing).hash(request.password),
    )
    if not added:
        raise Conflict(
            "An account with this email already exists.",
        )
    await security_log.record(store, "account_created", now, origin, user_id=user.id)
    return user


async def log_in(
    store: AccountStore,
    email: str,
    password: str,
    now: datetime,
    hashing: passwords.Hashing = passwords.DEFAULT,
    *,
    origin: Origin,
) -> User | None:
    """The user whose password this is, else None: the same work whatever failed.

    Every attempt goes into the security log: a failure under the account it aimed at,
    or, for an email that has no account, as an event of no account."""
    hasher = passwords.hasher(hashing)
    # An email with a control character has no account (and could not be looked up).
    key = email_key(email)
    credentials = None if has_controls(key) else await store.credentials_by_email(key)
    ok = hasher.verify(credentials.password_hash if credentials else None, password)
    if credentials is None:
        # What was typed, unless it cannot be an email (a password typed in the wrong box).
        typed = email.strip()
        plausible = _EMAIL.match(typed) and len(typed) <= MAX_EMAIL and not has_controls(typed)
        shown = typed if plausible else ""
        await security_log.record(
            store, "sign_in_failed", now, origin, user_id=None, detail={"email": shown}
        )
        return None
    if not ok:
        # Whoever typed the password is not known to be the account's owner.
        await security_log.record(
            store,
            "sign_in_failed",
            now,
            origin,
            user_id=credentials.user.id,
            actor=security_log.ANONYMOUS,
        )
        return None
    await security_log.record(store, "sign_in", now, origin, user_id=credentials.user.id)
    if hasher.needs_rehash(credentials.password_hash):
        await store.set_password_hash(credentials.user.id, hasher.hash(password), now)
    return credentials.user


async def change_password(
    store: AccountStore,
    user: User,
    current: str,
    new: str,
    now: datetime,
    hashing: passwords.Hashing = passwords.DEFAULT,
    *,
    origin: Origin,
) -> None:
    hasher = passwords.hasher(hashing)
    credentials = await store.credentials_by_email(email_key(user.email))
    if credentials is None or not hasher.verify(credentials.password_hash, current):
        raise Invalid(fields={"current_password": "That is not your current password."})
    passwords.check_rules(new, field="new_password")
    await store.set_password_hash(user.id, hasher.hash(new), now)
    await security_log.record(store, "password_changed", now, origin, user_id=user.id)


async def update_profile(
    store: UserStore, user: User, *, name: str, time_zone: str, now: datetime
) -> None:
    fields: dict[str, str] = {}
    try:
        name = check_name(name)
    except Invalid as error:
        fields.update(error.fields)
    try:
        time_zone = check_time_zone(time_zone)
    except Invalid as error:
        fields.update(error.fields)
    if fields:
        raise Invalid(fields=fields)
    await store.update_profile(user.id, name=name, time_zone=time_zone, now=now)
