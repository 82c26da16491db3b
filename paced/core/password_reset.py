"""Setting a new password from a link mailed to the account's address.

`/password/forgot` answers the same page whatever the address, and does nearly the same
work: for an unknown address a random link's digest is looked up and a message queued
for no account (storage finds no address and stores nothing), and the request is
recorded in the security log as an event of no account, as a failed sign-in is (OWASP
Forgot Password Cheat Sheet).

The link is valid an hour and once; setting a password from it ends every session of
the account and every other reset link, is recorded, and is told by mail.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Protocol

from paced.core import mail, notifications, one_time_links, security_log, sessions
from paced.core.accounts import AccountStore, find_credentials
from paced.core.errors import Invalid, NotFound
from paced.core.ids import digest
from paced.core.mail import MailQueue
from paced.core.one_time_links import LinkStore
from paced.core.policy import Policy
from paced.core.security_log import Origin
from paced.core.store import AccountStatusStore, SessionStore

LINK_UNUSABLE = (
    "This link cannot be used: it expired, was used already, or was replaced. Ask for a new one."
)


class ResetStore(AccountStore, SessionStore, LinkStore, MailQueue, AccountStatusStore, Protocol):
    pass


def link_path(token: str) -> str:
    return f"/password/reset/{token}"


async def request_link(
    store: ResetStore, email: str, now: datetime, policy: Policy, *, origin: Origin
) -> None:
    """Mail a reset link if the address has an account that may sign in; else the same
    work and nothing sent. The caller answers the same page either way."""
    credentials = await find_credentials(store, email)
    if credentials is None or credentials.disabled:
        # The statements of a link and its message, finding nothing, for an equal time.
        await store.link_by_digest(digest(secrets.token_urlsafe(32)))
        await mail.queue(store, "user_none", "password_reset", now, origin)
        await security_log.record(
            store,
            "password_reset_requested",
            now,
            origin,
            user_id=credentials.user.id if credentials else None,
            actor=security_log.ANONYMOUS,
        )
        return
    user = credentials.user
    token = await one_time_links.issue(
        store, user.id, "password_reset", now, policy.password_reset_ttl
    )
    await mail.queue(store, user.id, "password_reset", now, origin, {"link": link_path(token)})
    await security_log.record(
        store,
        "password_reset_requested",
        now,
        origin,
        user_id=user.id,
        actor=security_log.ANONYMOUS,
    )


async def operator_link(
    store: ResetStore, email: str, now: datetime, policy: Policy, *, origin: Origin
) -> str:
    """`paced users reset-password`: a link's path for the operator to hand over."""
    credentials = await find_credentials(store, email)
    if credentials is None:
        raise NotFound(f"no account has the email {email}")
    token = await one_time_links.issue(
        store, credentials.user.id, "password_reset", now, policy.password_reset_ttl
    )
    await security_log.record(
        store, "password_reset_link_created", now, origin, user_id=credentials.user.id
    )
    return link_path(token)


async def reset(
    store: ResetStore, token: str, password_hash: str, now: datetime, *, origin: Origin
) -> str:
    """Set the password hashed by the caller (after `passwords.check_rules`) from the
    link; returns the account's id. Invalid when the link cannot be used, including when
    a concurrent request used it first."""
    user_id = await one_time_links.use(store, token, "password_reset", now)
    if user_id is None:
        raise Invalid(LINK_UNUSABLE, fields={"password": LINK_UNUSABLE})
    await store.set_password_hash(user_id, password_hash, now)
    # Whoever followed the link reads the account's mail.
    await store.set_email_verified(user_id, now)
    await one_time_links.end_all(store, user_id, "password_reset", now)
    await sessions.end_all(store, user_id)
    await security_log.record(store, "password_reset", now, origin, user_id=user_id)
    await notifications.password_changed(store, user_id, now, origin, by_reset=True)
    return user_id
