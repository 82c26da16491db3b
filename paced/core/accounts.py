"""Accounts: sign-up, log-in and profile rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import available_timezones

from paced.core import notifications, passwords, security_log, sessions
from paced.core.errors import Conflict, Invalid
from paced.core.ids import new_id
from paced.core.mail import MailQueue
from paced.core.records import Credentials, User
from paced.core.security_log import Origin
from paced.core.store import SecurityLog, SessionStore, UserStore
from paced.core.text import CONTROL_MESSAGE, has_controls

MAX_NAME = 100
MAX_EMAIL = 254
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIME_ZONES: tuple[str, ...] = tuple(sorted(available_timezones() | {"UTC"}))
_TIME_ZONES = frozenset(TIME_ZONES)

LOGIN_FAILED = "Incorrect email or password."
_LIKE_THIS = "Enter an email address like name@example.com."


class AccountStore(UserStore, SecurityLog, Protocol):
    """Accounts, with the security log their sign-ins and changes are recorded in."""


class PasswordChangeStore(AccountStore, SessionStore, MailQueue, Protocol):
    """Accounts with their sessions, which a new password ends, and the mail that tells
    of it."""


def email_key(email: str) -> str:
    """What makes an email unique: its NFKC_Casefold form, approximated as NFKC, case fold,
    NFKC again (Unicode §3.13, UAX #15): a fullwidth `k` (U+FF4B) or a Kelvin sign
    (U+212A) is `k`, and an `e` with a combining accent is `é`."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def check_email(email: str) -> str:
    email = email.strip()
    if not email:
        raise Invalid(fields={"email": "Enter your email address."})
    # OWASP Input Validation: no invisible character makes a second look-alike account.
    if has_controls(email):
        raise Invalid(fields={"email": f"{_LIKE_THIS} {CONTROL_MESSAGE}"})
    # The key may be longer than the address (NFKC spells some characters out).
    if len(email) > MAX_EMAIL or len(email_key(email)) > MAX_EMAIL or not _EMAIL.match(email):
        raise Invalid(fields={"email": _LIKE_THIS})
    return email


def check_name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME:
        raise Invalid(fields={"name": f"Use at most {MAX_NAME} characters."})
    if has_controls(name, joiners=True):
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


# Hashing a password takes about 130 ms (passwords.Hasher): each use case that needs it
# does that first, outside the transaction that stores the outcome, which would
# otherwise hold the database's write turn meanwhile. Its transaction then checks that
# what was hashed against still stands.


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A sign-up whose fields passed their checks, its password hashed (`new_account`)."""

    email: str
    name: str
    time_zone: str
    password_hash: str


async def new_account(
    request: SignUp, hashing: passwords.Hashing = passwords.DEFAULT
) -> NewAccount:
    """Check every field of a sign-up (all their errors at once), then hash its password."""
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
    return NewAccount(
        email=check_email(request.email),
        name=check_name(request.name),
        time_zone=check_time_zone(request.time_zone),
        password_hash=await passwords.hasher(hashing).hash(request.password),
    )


async def sign_up(
    store: AccountStore, account: NewAccount, now: datetime, *, origin: Origin
) -> User:
    user = User(
        id=new_id("user"),
        email=account.email,
        name=account.name,
        time_zone=account.time_zone,
        created_at=now,
        updated_at=now,
    )
    added = await store.add_user(
        user=user, email_key=email_key(account.email), password_hash=account.password_hash
    )
    if not added:
        raise Conflict(
            "An account with this email already exists.",
        )
    await security_log.record(store, "account_created", now, origin, user_id=user.id)
    return user


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """A password checked against the account of an email (`check_password`)."""

    email: str
    credentials: Credentials | None
    ok: bool
    # The password hashed again with today's parameters, when its hash was made with
    # others.
    rehashed: str | None = None


async def find_credentials(store: UserStore, email: str) -> Credentials | None:
    # An email with a control or format character has no account (and a NUL could not
    # be looked up).
    key = email_key(email)
    return None if has_controls(key) else await store.credentials_by_email(key)


async def check_password(
    credentials: Credentials | None,
    email: str,
    password: str,
    hashing: passwords.Hashing = passwords.DEFAULT,
) -> PasswordCheck:
    """The same work whatever fails: an unknown email is checked against a dummy hash."""
    hasher = passwords.hasher(hashing)
    ok = await hasher.verify(credentials.password_hash if credentials else None, password)
    rehashed = None
    if ok and credentials is not None and hasher.needs_rehash(credentials.password_hash):
        rehashed = await hasher.hash(password)
    return PasswordCheck(email, credentials, ok, rehashed)


async def _still_stands(store: UserStore, credentials: Credentials) -> Credentials | None:
    """The account as it is now, if its password is still the one checked."""
    now_stored = await store.credentials_by_email(email_key(credentials.user.email))
    if now_stored is None or now_stored.password_hash != credentials.password_hash:
        return None
    return now_stored


async def log_in(
    store: AccountStore,
    check: PasswordCheck,
    now: datetime,
    *,
    origin: Origin,
    second_step: bool = False,
) -> User | None:
    """The user whose password was checked, else None.

    Every attempt goes into the security log: a failure under the account it aimed at,
    or, for an email that has no account, as an event of no account. A password changed
    since it was checked fails the attempt. `second_step`: the account has two-factor
    authentication, so the sign-in is not complete yet (`core.two_factor.second_step`)."""
    if check.credentials is None:
        # What was typed, unless it cannot be an email (a password typed in the wrong box).
        typed = check.email.strip()
        plausible = _EMAIL.match(typed) and len(typed) <= MAX_EMAIL and not has_controls(typed)
        shown = typed if plausible else ""
        await security_log.record(
            store, "sign_in_failed", now, origin, user_id=None, detail={"email": shown}
        )
        return None
    current = await _still_stands(store, check.credentials) if check.ok else None
    if current is not None and current.disabled:
        await security_log.record(
            store,
            "sign_in_failed",
            now,
            origin,
            user_id=current.user.id,
            actor=security_log.ANONYMOUS,
            detail={"reason": "account disabled"},
        )
        return None
    if current is None:
        # Whoever typed the password is not known to be the account's owner.
        await security_log.record(
            store,
            "sign_in_failed",
            now,
            origin,
            user_id=check.credentials.user.id,
            actor=security_log.ANONYMOUS,
        )
        return None
    event: security_log.EventName = "sign_in_password_accepted" if second_step else "sign_in"
    await security_log.record(store, event, now, origin, user_id=current.user.id)
    if check.rehashed is not None:
        await store.set_password_hash(current.user.id, check.rehashed, now)
    return current.user


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """A current password checked and a new one hashed (`check_password_change`)."""

    checked: Credentials
    new_hash: str


_NOT_CURRENT = "That is not your current password."


class WrongCurrentPassword(Invalid):
    """A password change whose current password is wrong: a failed guess at the
    account's password, which the edge counts toward the sign-in limits (docs/reference.md §6)."""

    def __init__(self) -> None:
        super().__init__(fields={"current_password": _NOT_CURRENT})


async def check_password_change(
    credentials: Credentials | None,
    user: User,
    current: str,
    new: str,
    hashing: passwords.Hashing = passwords.DEFAULT,
) -> PasswordChange:
    """`credentials`: the user's (`find_credentials`)."""
    checked = await check_password(credentials, user.email, current, hashing)
    if credentials is None or not checked.ok:
        raise WrongCurrentPassword
    passwords.check_rules(new, field="new_password")
    return PasswordChange(credentials, await passwords.hasher(hashing).hash(new))


async def change_password(
    store: PasswordChangeStore,
    user: User,
    change: PasswordChange,
    now: datetime,
    *,
    origin: Origin,
    session_id: str,
) -> None:
    """The new password, and every session of the account but `session_id` (the one
    that changed it) ended: whoever else was signed in with the old one is out."""
    if await _still_stands(store, change.checked) is None:  # changed meanwhile
        raise Invalid(fields={"current_password": _NOT_CURRENT})
    await store.set_password_hash(user.id, change.new_hash, now)
    await sessions.end_all(store, user.id, but=session_id)
    await security_log.record(store, "password_changed", now, origin, user_id=user.id)
    await notifications.password_changed(store, user.id, now, origin)


async def password_change_failed(
    store: SecurityLog, user: User, now: datetime, *, origin: Origin
) -> None:
    """A wrong current password goes into the account's log, like a failed sign-in: a
    stolen session guessing the password shows there."""
    await security_log.record(store, "password_change_failed", now, origin, user_id=user.id)


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
