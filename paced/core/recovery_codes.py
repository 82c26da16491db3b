"""Recovery codes: ten one-time codes `xxxxx-xxxxx` (0-9, a-z) that stand in for the
second factor when the authenticator app or passkey is lost. Shown once, stored as
SHA-256 digests; typing is forgiving of case, spaces and the dash."""

from __future__ import annotations

import secrets

from paced.core.ids import digest

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
HALF = 5
LENGTH = 2 * HALF  # 36**10: about 51.7 bits each


def new_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.add(f"{raw[:HALF]}-{raw[HALF:]}")
    return sorted(codes)


def canonical(typed: str) -> str | None:
    """The code as it was issued, or None when `typed` cannot be one."""
    raw = "".join(c for c in typed.lower() if c not in " -\u00a0\t")
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return f"{raw[:HALF]}-{raw[HALF:]}"


def code_digest(code: str) -> str:
    return digest(code)


def looks_like(typed: str) -> bool:
    return canonical(typed) is not None
