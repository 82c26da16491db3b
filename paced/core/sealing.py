"""AES-GCM under one key: what paced keeps or hands out encrypted (a TOTP secret at rest,
the cookie that carries a new secret to the page that shows it once).

A sealed value is a fresh 12-byte nonce followed by the ciphertext and its tag, bound to
its associated data (whose it is, or what it is for): opened with other associated data
or another key, it opens to nothing.

cryptography's AES-GCM is imported when a value is first sealed or opened, as
`paced.core.passkeys` imports webauthn: a worker that serves only the API and the token
endpoint never needs it, and does not carry its native library.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._aead: AESGCM | None = None

    def seal(self, value: bytes, associated: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._cipher().encrypt(nonce, value, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes | None:
        """The value, or None when it was sealed under another key or associated data,
        or is no sealed value at all."""
        from cryptography.exceptions import InvalidTag

        try:
            return self._cipher().decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
        except (ValueError, InvalidTag):
            return None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self._key)
        return self._aead
