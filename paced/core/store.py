"""What the rules need from storage: narrow protocols, one per need.

`paced.storage` implements them over SQLAlchemy; each core function asks for the
narrowest one it uses. Single-use things are consumed atomically in storage
(a conditional update whose row count names the winner), never read-then-write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core.records import App, Credentials, Session, User


class UserStore(Protocol):
    async def add_user(self, *, user: User, email_key: str, password_hash: str) -> bool:
        """Insert; False when `email_key` is taken."""
        ...

    async def credentials_by_email(self, email_key: str) -> Credentials | None: ...

    async def user_by_id(self, user_id: str) -> User | None: ...

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None: ...

    async def update_profile(
        self, user_id: str, *, name: str, time_zone: str, now: datetime
    ) -> None: ...


class SessionStore(Protocol):
    async def add_session(
        self, *, digest: str, user_id: str, now: datetime, ip: str, user_agent: str
    ) -> None: ...

    async def session_by_digest(self, digest: str, *, idle_since: datetime) -> Session | None:
        """The live session (seen after `idle_since`) with its user, else None."""
        ...

    async def touch_session(self, digest: str, now: datetime) -> None: ...

    async def delete_session(self, digest: str) -> None: ...

    async def delete_user_sessions(
        self, user_id: str, *, keep_digest: str | None = None
    ) -> None: ...


class ClientStore(Protocol):
    """What client authentication (RFC 6749 §2.3) needs; shared by the token, revocation
    and introspection endpoints."""

    async def app_by_client_id(self, client_id: str) -> App | None: ...

    async def client_secret_digests(self, app_id: str) -> list[tuple[str, str]]:
        """(secret id, SHA-256 hex digest) of each live secret of the app: at most two."""
        ...

    async def touch_client_secret(self, secret_id: str, now: datetime) -> None:
        """Record use, coarsely (at most once a minute per secret)."""
        ...


class GrantRevocation(Protocol):
    """Ending a family at once: shared by refresh-reuse and code-replay detection, app
    revocation on the authorized-applications page, and RFC 7009 revocation."""

    async def revoke_grant(self, grant_id: str, now: datetime) -> None:
        """Mark the grant, and every access and refresh token of it, revoked: set-based
        statements, never a loop over rows."""
        ...

    async def revoke_user_app_grants(self, user_id: str, app_id: str, now: datetime) -> int:
        """Revoke every live grant of `user_id` to `app_id`; returns how many."""
        ...
