"""A queued message as an RFC 5322 message: plain text and HTML alternatives rendered
from `paced/templates/mail/<kind>.txt` and `.html`."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from paced.core.mail import QueuedMail

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"

SUBJECTS: dict[str, str] = {
    "verify_email": "Confirm your email address",
    "password_reset": "Reset your password",
    "personal_token_created": "A new personal access token was created",
    "app_authorized": "An application was authorized to use your account",
    "password_changed": "Your password was changed",
    "two_factor_changed": "Two-factor authentication changed",
    "credential_leaked": "A leaked credential of your account was revoked",
    "token_expiring": "A personal access token expires soon",
    "token_unused_revoked": "An unused personal access token was revoked",
}


def default_sender(base_url: str) -> str:
    """`Paced Email <no-reply@HOST>`, HOST being the base URL's host."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"Paced Email <no-reply@{host}>"


def _shown_time(value: object) -> object:
    if not isinstance(value, str):
        return value
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%d %B %Y at %H:%M")


class Composer:
    def __init__(self, *, base_url: str, sender: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._sender = sender or default_sender(base_url)
        self._domain = urlsplit(base_url).hostname or "localhost"
        # One environment: `.html` templates are escaped, `.txt` ones are plain text.
        self._templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"], default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def context(self, mail: QueuedMail) -> dict[str, Any]:
        detail = {
            key: _shown_time(value) if key.endswith("_at") else value
            for key, value in mail.detail.items()
        }
        link = detail.pop("link", None)
        return {
            "name": mail.name,
            "email": mail.recipient,
            "when": mail.created_at.astimezone(UTC).strftime("%d %B %Y at %H:%M UTC"),
            "ip": mail.ip,
            "user_agent": mail.user_agent,
            "detail": detail,
            "link": f"{self._base_url}{link}" if isinstance(link, str) else None,
            "base_url": self._base_url,
        }

    def compose(self, mail: QueuedMail) -> EmailMessage:
        values = self.context(mail)
        message = EmailMessage()
        message["Subject"] = SUBJECTS.get(mail.kind, "About your account")
        message["From"] = self._sender
        message["To"] = Address(display_name=mail.name, addr_spec=mail.recipient)
        message["Date"] = format_datetime(mail.created_at.astimezone(UTC))
        message["Message-ID"] = f"<{mail.message_id}@{self._domain}>"
        # RFC 3834: sent by a program; auto-responders should not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self._templates.get_template(f"{mail.kind}.txt").render(values))
        message.add_alternative(
            self._templates.get_template(f"{mail.kind}.html").render(values), subtype="html"
        )
        return message
