"""The knobs of the rules, built once from settings and handed to the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from paced.core.passwords import DEFAULT, Hashing


@dataclass(frozen=True, slots=True)
class Policy:
    access_token_ttl: timedelta = timedelta(seconds=7200)
    auth_code_ttl: timedelta = timedelta(seconds=600)
    # None: no limit (SPEC §1 writes it as 0).
    refresh_token_ttl: timedelta | None = None
    refresh_token_max_age: timedelta | None = None
    refresh_reuse_grace: timedelta = timedelta(0)
    session_idle: timedelta = timedelta(days=14)
    # Writes of last-used times are coarse so that a valid request costs no write.
    last_used_granularity: timedelta = timedelta(minutes=1)
    password_hashing: Hashing = DEFAULT
    # How long a browser that passed the password step may take over the second one.
    second_step_ttl: timedelta = timedelta(minutes=5)
    # How long a WebAuthn challenge may be answered (WebAuthn's recommended timeout).
    webauthn_challenge_ttl: timedelta = timedelta(minutes=5)
    # RFC 6238 §5.2: codes of this many time steps before or after now are accepted.
    totp_drift_steps: int = 1
    recovery_code_count: int = 10
