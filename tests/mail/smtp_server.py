"""A real SMTP server for the mail tests: aiosmtpd on a free port, in its own thread."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.e2e.server import free_port


class Inbox:
    """Accepts every message, after refusing the first `refusals` with `refusal`."""

    def __init__(self, refusals: int = 0, refusal: str = "451 4.3.0 Try again later") -> None:
        self.refusals = refusals
        self.refusal = refusal
        self.refused = 0
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.refusals:
            self.refused += 1
            return self.refusal
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[str]:
    """Serve `inbox`; yields the PACED_SMTP_URL that reaches it."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
