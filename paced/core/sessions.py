"""Server-side sign-in sessions: a random id in a cookie, its digest in the database."""

from __future__ import annotations

import secrets
from datetime import datetime

from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import Session
from paced.core.store import SessionStore


async def start(
    store: SessionStore, user_id: str, now: datetime, *, ip: str = "", user_agent: str = ""
) -> str:
    """A new session for `user_id`; returns the cookie value, never stored as such."""
    session_id = secrets.token_urlsafe(32)
    await store.add_session(
        digest=digest(session_id), user_id=user_id, now=now, ip=ip, user_agent=user_agent[:300]
    )
    return session_id


async def resume(
    store: SessionStore, session_id: str, now: datetime, policy: Policy
) -> Session | None:
    """The live session behind a cookie value, else None. It writes nothing: see `touch`."""
    if not session_id or len(session_id) > 100:
        return None
    return await store.session_by_digest(digest(session_id), idle_since=now - policy.session_idle)


def needs_touch(session: Session, now: datetime, policy: Policy) -> bool:
    """Whether the session's last-seen time is worth a write: at most once a minute, so
    that a page view normally costs none."""
    return now - session.last_seen_at >= policy.last_used_granularity


async def touch(store: SessionStore, session: Session, now: datetime) -> None:
    await store.touch_session(session.digest, now)


async def expect_reveal(store: SessionStore, session_id: str) -> str:
    """A one-time nonce for the next new secret this session is shown (docs/reference.md §7: once);
    it replaces any earlier one not yet shown."""
    nonce = secrets.token_urlsafe(16)
    await store.expect_reveal(digest(session_id), nonce)
    return nonce


async def spend_reveal(store: SessionStore, session_id: str, nonce: str) -> bool:
    """Whether the session may be shown the reveal of `nonce`: once, atomically, however
    many requests bring the same cookie at once."""
    return await store.spend_reveal(digest(session_id), nonce)


async def end(store: SessionStore, session_id: str) -> None:
    await store.delete_session(digest(session_id))


async def end_all(store: SessionStore, user_id: str, *, but: str | None = None) -> None:
    """Sign the account out everywhere, or everywhere but the session `but`."""
    await store.delete_user_sessions(user_id, keep_digest=None if but is None else digest(but))
