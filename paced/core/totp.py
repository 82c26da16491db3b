"""Authenticator-app codes (TOTP, RFC 6238: 30-second steps, 6 digits, SHA-1), through
pyotp, and the encryption of their secret at rest.

A TOTP secret must be readable to check a code, so it cannot be kept as a digest: it is
stored encrypted with AES-GCM under a key derived from PACED_SECRET_KEY, and bound to
its account (the user id is the associated data), so that a sealed secret copied to
another account's row opens nowhere (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import pyotp

from paced.core.sealing import Sealer

DIGITS = 6
PERIOD = 30
ISSUER = "Paced Email"


class SecretBox:
    """Encrypts and decrypts TOTP secrets; built once from the secret key."""

    def __init__(self, secret_key: str) -> None:
        self._sealer = Sealer(hashlib.sha256(b"paced-totp:" + secret_key.encode()).digest())

    def seal(self, user_id: str, secret: str) -> str:
        sealed = self._sealer.seal(secret.encode(), user_id.encode())
        return base64.urlsafe_b64encode(sealed).decode()

    def open(self, user_id: str, sealed: str) -> str | None:
        """The secret, or None when it was sealed under another key or account."""
        try:
            opened = self._sealer.open(base64.urlsafe_b64decode(sealed), user_id.encode())
            return None if opened is None else opened.decode()
        except (ValueError, UnicodeDecodeError):
            return None


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 §4 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    """The `otpauth://totp/…` URI that authenticator apps read from a QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def shown(secret: str) -> str:
    """The secret in groups of four, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // PERIOD


def normalized(code: str) -> str:
    """What was typed, without the spaces or dashes people put in the middle."""
    return "".join(c for c in code if c not in " -\u00a0\t")


def matching_step(secret: str, code: str, now: datetime, drift: int = 1) -> int | None:
    """The time step whose code `code` is, within `drift` steps of now, else None.
    Every candidate is compared in constant time."""
    code = normalized(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = step_of(now)
    found = None
    for step in range(current - drift, current + drift + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            found = step
    return found
