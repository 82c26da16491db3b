"""One-time links mailed to an account's address: email verification (24 hours) and
password reset (1 hour).

The token is random (256 bits), sent only in the link and kept only as its SHA-256
digest. It is used at most once, whatever the concurrency: `use_link` is a conditional
UPDATE whose row count names the one request that used it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from paced.core.ids import digest

Purpose = Literal["verify_email", "password_reset"]
# Longer than any token this module makes, shorter than anything worth hashing.
MAX_TOKEN = 100


@dataclass(frozen=True, slots=True)
class Link:
    user_id: str
    purpose: str
    expires_at: datetime
    used_at: datetime | None


class LinkStore(Protocol):
    async def add_link(
        self, *, digest: str, user_id: str, purpose: Purpose, now: datetime, expires_at: datetime
    ) -> None: ...

    async def link_by_digest(self, digest: str) -> Link | None: ...

    async def use_link(self, digest: str, purpose: Purpose, now: datetime) -> bool:
        """Mark the link used unless it is used, expired or of another purpose: True for
        the one caller that did."""
        ...

    async def end_links(self, user_id: str, purpose: Purpose, now: datetime) -> None:
        """Mark every unused link of the account for `purpose` used: a new password ends
        the other reset links."""
        ...


async def issue(
    store: LinkStore, user_id: str, purpose: Purpose, now: datetime, ttl: timedelta
) -> str:
    """A new link's token; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    await store.add_link(
        digest=digest(token), user_id=user_id, purpose=purpose, now=now, expires_at=now + ttl
    )
    return token


def _digest(token: str) -> str | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    return digest(token)


async def valid(store: LinkStore, token: str, purpose: Purpose, now: datetime) -> Link | None:
    """The link while it can still be used (for the page that shows its form), else None.
    It writes nothing: `use` decides."""
    wanted = _digest(token)
    link = None if wanted is None else await store.link_by_digest(wanted)
    if link is None or link.purpose != purpose or link.used_at is not None:
        return None
    return link if link.expires_at > now else None


async def use(store: LinkStore, token: str, purpose: Purpose, now: datetime) -> str | None:
    """The account of the link, for the one caller that uses it; None when it is unknown,
    expired, used, or used meanwhile by a concurrent request."""
    link = await valid(store, token, purpose, now)
    if link is None or not await store.use_link(digest(token), purpose, now):
        return None
    return link.user_id


async def end_all(store: LinkStore, user_id: str, purpose: Purpose, now: datetime) -> None:
    await store.end_links(user_id, purpose, now)
