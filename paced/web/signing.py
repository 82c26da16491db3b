"""Keys derived from PACED_SECRET_KEY: HMAC for CSRF tokens and flash cookies, and
AES-GCM for the cookie that carries a new secret to the page that shows it once."""

from __future__ import annotations

import base64
import hashlib
import hmac

from paced.core.sealing import Sealer


class Signer:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"paced-signing:" + secret_key.encode()).digest()
        self._sealer = Sealer(hashlib.sha256(b"paced-sealing:" + secret_key.encode()).digest())

    def seal(self, purpose: str, value: str) -> str:
        """Encrypted and authenticated: unreadable to whatever logs or keeps the cookie."""
        sealed = self._sealer.seal(value.encode(), purpose.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, purpose: str, sealed: str) -> str | None:
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            opened = self._sealer.open(raw, purpose.encode())
            return None if opened is None else opened.decode()
        except (ValueError, UnicodeDecodeError):
            return None

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
