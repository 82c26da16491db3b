"""Two-factor authentication: the authenticator app (`core.totp`), recovery codes
(`core.recovery_codes`) and passkeys (`core.passkeys`) of an account, and the second
step of a sign-in (docs/two-factor.md).

Two-factor authentication is on while the account has a confirmed authenticator app or
a passkey. Turning it on makes ten recovery codes, shown once; turning it off removes
every second factor and needs the password. Each change goes into the security log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import notifications, recovery_codes, security_log, totp
from paced.core.accounts import PasswordCheck
from paced.core.errors import Invalid
from paced.core.mail import MailQueue
from paced.core.policy import Policy
from paced.core.records import Passkey, User
from paced.core.security_log import Detail, EventName, Origin
from paced.core.store import PasskeyStore, RecoveryCodeStore, SecurityLog, TotpStore, UserStore

WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your app shows now, or a recovery code."
)
SET_UP_AGAIN = "This set-up has expired or was replaced. Start again."
WRONG_PASSWORD = "That is not your password."  # noqa: S105 (a message)


class ChangeLog(SecurityLog, MailQueue, Protocol):
    """Where a change of two-factor authentication is recorded and told."""


class TwoFactorStore(TotpStore, RecoveryCodeStore, PasskeyStore, ChangeLog, Protocol):
    """Every second factor of an account, with the log their changes go into."""


class SecondStepStore(TwoFactorStore, UserStore, Protocol):
    """The second factors, and the account they sign in to."""


class WrongCode(Invalid):
    """A second factor that did not match: a failed guess, which the edge counts toward
    the sign-in limits."""

    def __init__(self, message: str = WRONG_CODE) -> None:
        super().__init__(fields={"code": message})


class WrongPassword(Invalid):
    def __init__(self) -> None:
        super().__init__(fields={"password": WRONG_PASSWORD})


@dataclass(frozen=True, slots=True)
class Status:
    authenticator_app: bool
    passkeys: tuple[Passkey, ...]
    recovery_codes_left: int

    @property
    def enabled(self) -> bool:
        return self.authenticator_app or bool(self.passkeys)


@dataclass(frozen=True, slots=True)
class AuthenticatorSetUp:
    """What the set-up page shows: the secret as text and the URI its QR code holds."""

    secret: str
    uri: str


async def status_of(store: TwoFactorStore, user_id: str) -> Status:
    credential = await store.totp_of(user_id)
    return Status(
        authenticator_app=credential is not None and credential.secret is not None,
        passkeys=tuple(await store.passkeys_of(user_id)),
        recovery_codes_left=await store.recovery_codes_left(user_id),
    )


async def is_enabled(store: TwoFactorStore, user_id: str) -> bool:
    return (await status_of(store, user_id)).enabled


async def turned_on_or_off(
    store: ChangeLog,
    user: User,
    event: EventName,
    now: datetime,
    origin: Origin,
    detail: Detail | None = None,
) -> None:
    """Two-factor authentication turned on or off: the one place both changes pass. It
    records the security-log event and tells the owner by mail (docs/two-factor.md)."""
    await security_log.record(store, event, now, origin, user_id=user.id, detail=detail)
    method = str((detail or {}).get("method") or "two-factor authentication")
    await notifications.two_factor_changed(
        store,
        user.id,
        now,
        origin,
        method=_IN_WORDS.get(method, method),
        enabled=event == "two_factor_enabled",
    )


# What the owner's mail calls each way to turn two-factor authentication on.
_IN_WORDS = {"authenticator app": "an authenticator app", "passkey": "a passkey"}


async def _new_recovery_codes(
    store: TwoFactorStore, user: User, now: datetime, origin: Origin, policy: Policy
) -> list[str]:
    codes = recovery_codes.new_codes(policy.recovery_code_count)
    await store.replace_recovery_codes(
        user.id, [recovery_codes.code_digest(code) for code in codes], now
    )
    await security_log.record(store, "recovery_codes_generated", now, origin, user_id=user.id)
    return codes


async def enabled_by(
    store: TwoFactorStore,
    user: User,
    was_enabled: bool,
    method: str,
    now: datetime,
    origin: Origin,
    policy: Policy,
) -> list[str] | None:
    """After a second factor was added: when it is the account's first, two-factor
    authentication is now on, and its recovery codes are made (returned, to show once)."""
    if was_enabled:
        return None
    codes = await _new_recovery_codes(store, user, now, origin, policy)
    await turned_on_or_off(store, user, "two_factor_enabled", now, origin, {"method": method})
    return codes


# --- The authenticator app ---------------------------------------------------------------


async def start_authenticator(store: TwoFactorStore, box: totp.SecretBox, user: User) -> None:
    """A new secret to set up; the app already confirmed, if any, stays until a code from
    the new one confirms it."""
    await store.set_pending_totp(user.id, box.seal(user.id, totp.new_secret()))


async def authenticator_set_up(
    store: TwoFactorStore, box: totp.SecretBox, user: User
) -> AuthenticatorSetUp | None:
    """The secret being set up, or None when there is none."""
    credential = await store.totp_of(user.id)
    if credential is None or credential.pending_secret is None:
        return None
    secret = box.open(user.id, credential.pending_secret)
    if secret is None:
        return None
    return AuthenticatorSetUp(secret, totp.provisioning_uri(secret, user.email))


async def confirm_authenticator(
    store: TwoFactorStore,
    box: totp.SecretBox,
    user: User,
    code: str,
    now: datetime,
    *,
    origin: Origin,
    policy: Policy,
) -> list[str] | None:
    """Make the secret being set up the account's, once a code from it is right. Returns
    the new recovery codes when this turned two-factor authentication on."""
    credential = await store.totp_of(user.id)
    if credential is None or credential.pending_secret is None:
        raise Invalid(fields={"code": SET_UP_AGAIN})
    secret = box.open(user.id, credential.pending_secret)
    if secret is None:  # sealed under another PACED_SECRET_KEY
        raise Invalid(fields={"code": SET_UP_AGAIN})
    step = totp.matching_step(secret, code, now, policy.totp_drift_steps)
    if step is None:
        raise WrongCode("That code is not right. Enter the 6-digit code your app shows now.")
    was_enabled = await is_enabled(store, user.id)
    if not await store.confirm_totp(user.id, credential.pending_secret, step, now):
        raise Invalid(fields={"code": SET_UP_AGAIN})
    await security_log.record(store, "authenticator_app_added", now, origin, user_id=user.id)
    return await enabled_by(store, user, was_enabled, "authenticator app", now, origin, policy)


# --- Recovery codes ------------------------------------------------------------------------


async def new_recovery_codes(
    store: TwoFactorStore, user: User, now: datetime, *, origin: Origin, policy: Policy
) -> list[str]:
    """Ten new codes; the old ones stop working."""
    if not await is_enabled(store, user.id):
        raise Invalid("Turn on two-factor authentication first.")
    return await _new_recovery_codes(store, user, now, origin, policy)


# --- The second step of a sign-in ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecondStep:
    """An account through the second step by a code, and which kind of code it was:
    "authenticator app" or "recovery code" (a passkey's is `passkeys.second_step`)."""

    user: User
    method: str


async def second_step(
    store: SecondStepStore,
    box: totp.SecretBox,
    user_id: str,
    code: str,
    now: datetime,
    *,
    origin: Origin,
    policy: Policy,
) -> SecondStep | None:
    """Check a code from the authenticator app or a recovery code of the account that
    passed the first step. A wrong one is logged and raises WrongCode. Each is accepted
    once. None when there is no such account (any more)."""
    user = await store.user_by_id(user_id)
    if user is None:
        return None
    method = await _accepted(store, box, user, code, now, policy)
    if method is None:
        await security_log.record(store, "second_factor_failed", now, origin, user_id=user.id)
        raise WrongCode
    if method == "recovery code":
        left = await store.recovery_codes_left(user.id)
        await security_log.record(
            store, "recovery_code_used", now, origin, user_id=user.id, detail={"left": left}
        )
    return SecondStep(user, method)


async def _accepted(
    store: TwoFactorStore,
    box: totp.SecretBox,
    user: User,
    code: str,
    now: datetime,
    policy: Policy,
) -> str | None:
    typed = totp.normalized(code)
    if len(typed) == totp.DIGITS:
        credential = await store.totp_of(user.id)
        if credential is None or credential.secret is None:
            return None
        secret = box.open(user.id, credential.secret)
        if secret is None:
            return None
        step = totp.matching_step(secret, typed, now, policy.totp_drift_steps)
        # RFC 6238 §5.2: a code (or one of an earlier step) accepted once is refused.
        if step is None or not await store.use_totp_step(user.id, step):
            return None
        return "authenticator app"
    canonical = recovery_codes.canonical(code)
    if canonical is None:
        return None
    if not await store.use_recovery_code(user.id, recovery_codes.code_digest(canonical), now):
        return None
    return "recovery code"


async def signed_in(
    store: SecurityLog, user: User, method: str, now: datetime, *, origin: Origin
) -> None:
    """A sign-in completed by a second factor, or by a passkey alone."""
    await security_log.record(
        store, "sign_in", now, origin, user_id=user.id, detail={"method": method}
    )


# --- Turning it off ------------------------------------------------------------------------


async def turn_off(
    store: TwoFactorStore,
    user: User,
    check: PasswordCheck,
    now: datetime,
    *,
    origin: Origin,
) -> None:
    """Remove every second factor, once the password (`accounts.check_password`) is
    right; a wrong one is logged and raises WrongPassword."""
    if check.credentials is None or not check.ok or check.credentials.user.id != user.id:
        await security_log.record(store, "two_factor_disable_failed", now, origin, user_id=user.id)
        raise WrongPassword
    if not await is_enabled(store, user.id):
        return
    await store.delete_totp(user.id)
    await store.delete_passkeys(user.id)
    await store.delete_recovery_codes(user.id)
    await turned_on_or_off(store, user, "two_factor_disabled", now, origin)


async def second_step_failed(
    store: SecurityLog, user: User, now: datetime, *, origin: Origin
) -> None:
    """A passkey that failed the second step, logged like a wrong code."""
    await security_log.record(store, "second_factor_failed", now, origin, user_id=user.id)
