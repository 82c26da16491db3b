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
    if not session_id or len(session_id) > 100:
        return None
    session = await store.session_by_digest(
        digest(session_id), idle_since=now - policy.session_idle
    )
    if session is None:
        return None
    if now - session.last_seen_at >= policy.last_used_granularity:
        await store.touch_session(session.digest, now)
    return session


async def end(store: SessionStore, session_id: str) -> None:
    await store.delete_session(digest(session_id))
