"""The knobs of the rules, built once from settings and handed to the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from paced.core.passwords import DEFAULT, Hashing


@dataclass(frozen=True, slots=True)
class Policy:
    # The issuer identifier (PACED_BASE_URL), which also names the API as a resource.
    issuer: str = ""
    access_token_ttl: timedelta = timedelta(seconds=7200)
    auth_code_ttl: timedelta = timedelta(seconds=600)
    # None: no limit (docs/reference.md §1 writes it as 0).
    refresh_token_ttl: timedelta | None = None
    refresh_token_max_age: timedelta | None = None
    refresh_reuse_grace: timedelta = timedelta(0)
    session_idle: timedelta = timedelta(days=14)
    # Writes of last-used times are coarse so that a valid request costs no write.
    last_used_granularity: timedelta = timedelta(minutes=1)
    password_hashing: Hashing = DEFAULT
    # A personal access token unused this long is revoked by `paced purge`; None: never.
    personal_token_unused_revoke_after: timedelta | None = timedelta(days=365)
    # One-time links mailed to an account's address.
    email_verification_ttl: timedelta = timedelta(hours=24)
    password_reset_ttl: timedelta = timedelta(hours=1)
    # A personal access token's owner is told this long before it expires.
    token_expiry_notice: timedelta = timedelta(days=7)
    # The waits between a message's attempts; it is given up after the last (the sum is
    # well over ten minutes: a mail server restarting is waited for).
    mail_retry_delays: tuple[timedelta, ...] = (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
    )
    # RFC 8628 §3.2: how long a device code lives, and how often its client may poll;
    # each poll that comes too early adds `device_slow_down` to its interval (§3.5).
    device_code_ttl: timedelta = timedelta(seconds=900)
    device_poll_interval: timedelta = timedelta(seconds=5)
    device_slow_down: timedelta = timedelta(seconds=5)
    # How long a browser that passed the password step may take over the second one.
    second_step_ttl: timedelta = timedelta(minutes=5)
    # How long a WebAuthn challenge may be answered (WebAuthn's recommended timeout).
    webauthn_challenge_ttl: timedelta = timedelta(minutes=5)
    # RFC 6238 §5.2: codes of this many time steps before or after now are accepted.
    totp_drift_steps: int = 1
    recovery_code_count: int = 10
    # RFC 7591 at /oauth/register (PACED_DYNAMIC_REGISTRATION=open).
    dynamic_registration: bool = True
    # An https URL as client_id, its metadata document fetched (docs/oauth.md).
    client_id_metadata_documents: bool = True
    # A self-registered client that got no grant in this time is deleted by `paced purge`.
    unclaimed_client_ttl: timedelta = timedelta(hours=24)
