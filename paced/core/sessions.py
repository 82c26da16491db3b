"""Server-side sign-in sessions: a random id in a cookie, its digest in the database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paced.core import security_log, user_agents
from paced.core.errors import NotFound
from paced.core.ids import digest, new_id
from paced.core.policy import Policy
from paced.core.records import Session
from paced.core.security_log import Origin
from paced.core.store import SecurityLog, SessionList, SessionStore


async def start(
    store: SessionStore, user_id: str, now: datetime, *, ip: str = "", user_agent: str = ""
) -> str:
    """A new session for `user_id`; returns the cookie value, never stored as such."""
    session_id = secrets.token_urlsafe(32)
    await store.add_session(
        id=new_id("session"),
        digest=digest(session_id),
        user_id=user_id,
        now=now,
        ip=ip,
        user_agent=user_agent[:300],
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


@dataclass(frozen=True, slots=True)
class Listed:
    """A session as the sessions list shows it: the browser in words."""

    id: str
    browser: str
    user_agent: str
    ip: str
    created_at: datetime
    last_active_at: datetime
    current: bool


class SignOutStore(SessionList, SecurityLog, Protocol):
    """The sessions list, and the log that records signing one out."""


async def list_of(
    store: SessionList, user_id: str, current_session_id: str | None, now: datetime, policy: Policy
) -> list[Listed]:
    """The account's live sessions, this browser's first, then the most recently active."""
    current = digest(current_session_id) if current_session_id else None
    found = await store.sessions_of(user_id, idle_since=now - policy.session_idle)
    listed = [
        Listed(
            id=info.id,
            browser=user_agents.describe(info.user_agent),
            user_agent=info.user_agent,
            ip=info.ip,
            created_at=info.created_at,
            last_active_at=info.last_seen_at,
            current=info.digest == current,
        )
        for info in found
    ]
    return sorted(listed, key=lambda item: not item.current)


async def sign_out(
    store: SignOutStore,
    user_id: str,
    session_id: str,
    now: datetime,
    policy: Policy,
    *,
    origin: Origin,
) -> None:
    """End one session of the account by its public id (another account's looks absent)."""
    live = await store.sessions_of(user_id, idle_since=now - policy.session_idle)
    found = {info.id: info for info in live}
    info = found.get(session_id)
    if info is None or not await store.delete_session_of(user_id, session_id):
        raise NotFound("That session has ended already.")
    await security_log.record(
        store,
        "session_signed_out",
        now,
        origin,
        user_id=user_id,
        detail={"browser": user_agents.describe(info.user_agent), "ip": info.ip},
    )
