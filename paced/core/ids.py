"""Public ids and random secrets in base62 (docs/reference.md §3)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Literal

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE62_SET = frozenset(BASE62)

IdPrefix = Literal["user", "pat", "app", "grant", "session", "passkey"]


# Random bytes map to base62 by their value modulo 62; the eight values from 248 up are
# dropped, so that each character stays equally likely (248 = 4 x 62).
_UNBIASED = 248
_TO_BASE62 = bytes(ord(BASE62[value % 62]) for value in range(256))
_DROP = bytes(range(_UNBIASED, 256))


def random_base62(length: int) -> str:
    drawn = b""
    while len(drawn) < length:
        # 1/32 of the bytes are dropped: a few spare make a second draw rare.
        drawn += secrets.token_bytes(length + 8).translate(_TO_BASE62, _DROP)
    return drawn[:length].decode("ascii")


def new_id(prefix: IdPrefix) -> str:
    return f"{prefix}_{random_base62(24)}"


def ordered_id(prefix: str, now: datetime) -> str:
    """An id that starts with its creation time, in milliseconds (8 base62 characters,
    good for 6,900 years), then 16 random ones (95 bits). Rows made one after another
    sort side by side in the primary key's index, so a batch of inserts writes one of
    its pages rather than one page each."""
    return f"{prefix}_{to_base62(int(now.timestamp() * 1000), 8)}{random_base62(16)}"


def is_base62(text: str) -> bool:
    return all(c in BASE62_SET for c in text)


def to_base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
