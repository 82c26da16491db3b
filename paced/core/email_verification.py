"""Confirming that an account's owner reads its email address: sign-up mails a link to
`/verify-email/{token}`, valid 24 hours and once. Until it is followed the account works,
and its pages say so with a `Resend` button (rate-limited at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core import mail, one_time_links, security_log
from paced.core.mail import MailQueue
from paced.core.one_time_links import LinkStore
from paced.core.policy import Policy
from paced.core.records import User
from paced.core.security_log import Origin
from paced.core.store import AccountStatusStore, SecurityLog


class VerificationStore(LinkStore, MailQueue, AccountStatusStore, SecurityLog, Protocol):
    pass


def link_path(token: str) -> str:
    return f"/verify-email/{token}"


async def send_link(
    store: VerificationStore, user: User, now: datetime, policy: Policy, *, origin: Origin
) -> None:
    """Mail a new link (earlier ones stay valid until they expire)."""
    token = await one_time_links.issue(
        store, user.id, "verify_email", now, policy.email_verification_ttl
    )
    await mail.queue(store, user.id, "verify_email", now, origin, {"link": link_path(token)})


async def verify(store: VerificationStore, token: str, now: datetime, *, origin: Origin) -> bool:
    """Whether the link verified the address: False when it is unknown, expired or used."""
    user_id = await one_time_links.use(store, token, "verify_email", now)
    if user_id is None:
        return False
    await store.set_email_verified(user_id, now)
    await security_log.record(store, "email_verified", now, origin, user_id=user_id)
    return True
