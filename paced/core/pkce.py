"""Proof Key for Code Exchange (RFC 7636), S256 only.

The client sends `code_challenge = BASE64URL(SHA256(code_verifier))` with the
authorization request, and the verifier with the token request. `plain` is refused
(RFC 9700 §2.1.1): a challenge that equals its verifier protects nothing once the
authorization request is seen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Final

S256: Final = "S256"
METHODS: tuple[str, ...] = (S256,)

# RFC 7636 §4.1: 43 to 128 unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 §4.2: S256 is BASE64URL of 32 bytes without padding, always 43 characters.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def is_valid_verifier(verifier: str) -> bool:
    return _VERIFIER.fullmatch(verifier) is not None


def is_valid_challenge(challenge: str) -> bool:
    return _CHALLENGE.fullmatch(challenge) is not None


def challenge_of(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def verify(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: whether `verifier` answers `challenge`, compared in constant time.

    A verifier that breaks the §4.1 syntax never answers, whatever the challenge.
    """
    if not is_valid_verifier(verifier) or not is_valid_challenge(challenge):
        return False
    return hmac.compare_digest(challenge_of(verifier).encode(), challenge.encode())
