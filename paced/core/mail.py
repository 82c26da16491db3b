"""Mail as the rules see it: a message is queued, in the transaction of the change it
tells of, and sent later by the outbox's sender (`paced.mail`).

A queued message names its kind, its account and what happened (`detail`): the sender
renders it from the templates of its kind (`paced/templates/mail/`). Nothing secret goes
into `detail` but the one-time link a message exists for, which storage blanks once the
message is sent. A message whose sending fails is tried again after each of
`Policy.mail_retry_delays`, then given up (and left in the table, with its last error).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, get_args

from paced.core.policy import Policy
from paced.core.security_log import MAX_IP, MAX_USER_AGENT, Origin

MailKind = Literal[
    "verify_email",
    "password_reset",
    "personal_token_created",
    "app_authorized",
    "password_changed",
    "two_factor_changed",
    "credential_leaked",
    "token_expiring",
    "token_unused_revoked",
]
KINDS: tuple[MailKind, ...] = get_args(MailKind)

MailDetail = Mapping[str, str | int | bool | None]
MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class Mail:
    """A message to queue for an account: storage addresses it to the account's email."""

    user_id: str
    kind: MailKind
    created_at: datetime
    origin: Origin
    detail: MailDetail = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A message claimed for sending."""

    id: int
    message_id: str
    recipient: str
    name: str
    kind: str
    created_at: datetime
    ip: str
    user_agent: str
    detail: MailDetail
    attempts: int


class MailQueue(Protocol):
    async def queue_mail(self, mail: Mail, *, message_id: str) -> None:
        """Insert the message for the account's current address, due at once; nothing
        when there is no such account."""
        ...


class MailOutbox(Protocol):
    """What the sender needs of the queue."""

    async def claim_due_mail(
        self, now: datetime, *, hold_until: datetime, limit: int
    ) -> list[QueuedMail]:
        """Messages due at `now`, each made due again only at `hold_until` (so that a
        sender that dies with it leaves it to another) by a conditional UPDATE: two
        senders never claim the same message."""
        ...

    async def mail_sent(self, mail_id: int, now: datetime) -> None:
        """Done: never due again, and its one-time link blanked."""
        ...

    async def mail_failed(
        self, mail_id: int, now: datetime, *, retry_at: datetime | None, error: str
    ) -> None:
        """One more attempt failed: due again at `retry_at`, or given up when None."""
        ...


async def queue(
    store: MailQueue,
    user_id: str,
    kind: MailKind,
    now: datetime,
    origin: Origin,
    detail: MailDetail | None = None,
) -> None:
    trimmed = Origin(origin.ip[:MAX_IP], origin.user_agent[:MAX_USER_AGENT], origin.operator)
    await store.queue_mail(
        Mail(user_id, kind, now, trimmed, dict(detail or {})), message_id=new_message_id()
    )


def new_message_id() -> str:
    """The local part of the Message-ID (RFC 5322 §3.6.4); the domain is the sender's."""
    return secrets.token_hex(16)


def retry_at(attempts: int, now: datetime, policy: Policy) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None to give up."""
    delays: tuple[timedelta, ...] = policy.mail_retry_delays
    if attempts > len(delays):
        return None
    return now + delays[attempts - 1]


def error_text(error: BaseException) -> str:
    """What is kept of a failed attempt: the class and the server's answer, short. The
    SMTP URL's password never is in it (paced.mail's transports raise without it)."""
    return f"{type(error).__name__}: {error}"[:MAX_ERROR]
