"""HMAC under PACED_SECRET_KEY, for CSRF tokens and flash cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac


class Signer:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"paced-signing:" + secret_key.encode()).digest()

    def mac(self, purpose: str, value: str) -> str:
        tag = hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(tag).rstrip(b"=").decode()

    def verify(self, purpose: str, value: str, tag: str) -> bool:
        return hmac.compare_digest(self.mac(purpose, value).encode(), tag.encode())

    def sign(self, purpose: str, value: str) -> str:
        encoded = base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()
        return f"{encoded}.{self.mac(purpose, value)}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        encoded, _, tag = signed.partition(".")
        try:
            value = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return value if self.verify(purpose, value, tag) else None
