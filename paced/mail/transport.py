"""Where a composed message goes: an SMTP server (PACED_SMTP_URL), or else one `.eml`
file per message in the outbox folder (PACED_MAIL_OUTBOX), which any mail program opens.

    smtp://user:pass@host:587    STARTTLS, required (except to a loopback host, where it
                                 is used when the server offers it)
    smtps://user:pass@host:465   TLS from the first byte
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

SMTP_TIMEOUT = 30.0


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver, or raise."""
        ...


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Smtp:
    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT) -> None:
        parts = urlsplit(url)
        self._implicit_tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._implicit_tls else 587)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        # Imported here: a server with no PACED_SMTP_URL never loads it (memory).
        import aiosmtplib

        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._implicit_tls,
            # None: STARTTLS when the server offers it; True: refuse a server without it.
            start_tls=None if self._implicit_tls or _loopback(self._host) else True,
            timeout=self._timeout,
        )


class Outbox:
    """One RFC 5322 file per message, written whole (a temporary file renamed), so that
    a reader never sees half a message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        local = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
        name = f"{local}.eml"
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(message.as_bytes())
            os.replace(temporary, self.folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def transport_for(smtp_url: str, outbox: str) -> Transport:
    return Smtp(smtp_url) if smtp_url else Outbox(Path(outbox))
