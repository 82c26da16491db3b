"""The shape of every secret paced hands out (docs/reference.md §3).

    <prefix> + 30 random base62 characters + 6 base62 characters of CRC-32(random part)

30 base62 characters carry 178 bits. The checksum lets a secret scanner recognise a real
token offline, and lets us refuse a mistyped or forged one without a database read.
"""

from __future__ import annotations

import zlib
from typing import Final, Literal

from paced.core.ids import random_base62, to_base62

Prefix = Literal["pt_secret_", "pt_oauth_", "pt_refresh_", "pt_client_"]
PERSONAL: Final = "pt_secret_"
ACCESS: Final = "pt_oauth_"
REFRESH: Final = "pt_refresh_"
CLIENT_SECRET: Final = "pt_client_"  # noqa: S105 (a prefix, not a secret)

RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
HINT_LENGTH = 4
PREFIXES: Final = (PERSONAL, ACCESS, REFRESH, CLIENT_SECRET)


def checksum(random_part: str) -> str:
    return to_base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate(prefix: Prefix) -> str:
    random_part = random_base62(RANDOM_LENGTH)
    return prefix + random_part + checksum(random_part)


def is_well_formed(token: str, prefix: Prefix) -> bool:
    """Prefix, length, alphabet and checksum: everything that needs no database."""
    body = token[len(prefix) :]
    if not token.startswith(prefix) or len(body) != RANDOM_LENGTH + CHECKSUM_LENGTH:
        return False
    # The base62 alphabet is exactly the ASCII letters and digits.
    if not (body.isascii() and body.isalnum()):
        return False
    return checksum(body[:RANDOM_LENGTH]) == body[RANDOM_LENGTH:]


def hint(secret: str) -> str:
    """The public hint of a secret (docs/reference.md §3): its prefix, `…`, and its last four
    characters, e.g. `pt_secret_…x9Qa`. Pages, listings and the security log show it so
    that a person can tell which credential a leaked value is; four base62 characters
    (of the checksum, for a well-formed token) reveal nothing of the random part."""
    prefix = next((p for p in PREFIXES if secret.startswith(p)), "")
    return f"{prefix}…{secret[-HINT_LENGTH:]}"
