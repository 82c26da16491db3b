"""UserStore, AccountStatusStore, SessionStore and SessionList, as paced/storage/users.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import Credentials, Session, SessionInfo, User
from tests.fakes.rows import SessionRow, UserRow
from tests.fakes.tables import Rows, oldest_first


def user_from(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        time_zone=row.time_zone,
        created_at=row.created_at,
        updated_at=row.updated_at,
        email_verified_at=row.email_verified_at,
    )


class UserRows(Rows):
    async def add_user(self, *, user: User, email_key: str, password_hash: str) -> bool:
        row = UserRow(
            id=user.id,
            email=user.email,
            email_key=email_key,
            name=user.name,
            time_zone=user.time_zone,
            password_hash=password_hash,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        return self._try_insert(self.db.users, row)

    async def credentials_by_email(self, email_key: str) -> Credentials | None:
        row = self.db.users.first(email_key=email_key)
        if row is None:
            return None
        return Credentials(
            user_from(row),
            row.password_hash,
            disabled=row.disabled_at is not None,
            unlocked_at=row.sign_in_unlocked_at,
        )

    async def user_by_id(self, user_id: str) -> User | None:
        row = self.db.users.first(id=user_id)
        return user_from(row) if row else None

    async def user_by_email(self, email_key: str) -> User | None:
        row = self.db.users.first(email_key=email_key)
        return user_from(row) if row else None

    async def all_users(self) -> list[User]:
        return [user_from(row) for row in sorted(self.db.users.rows, key=oldest_first)]

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None:
        for row in self.db.users.where(id=user_id):
            row.password_hash, row.updated_at = password_hash, now

    async def update_profile(
        self, user_id: str, *, name: str, time_zone: str, now: datetime
    ) -> None:
        for row in self.db.users.where(id=user_id):
            row.name, row.time_zone, row.updated_at = name, time_zone, now

    async def set_email_verified(self, user_id: str, now: datetime) -> None:
        for row in self.db.users.where(id=user_id, email_verified_at=None):
            row.email_verified_at = now

    async def set_disabled(self, user_id: str, disabled_at: datetime | None) -> None:
        for row in self.db.users.where(id=user_id):
            row.disabled_at = disabled_at

    async def set_sign_in_unlocked(self, user_id: str, now: datetime) -> None:
        for row in self.db.users.where(id=user_id):
            row.sign_in_unlocked_at = now


class SessionRows(Rows):
    async def add_session(
        self, *, id: str, digest: str, user_id: str, now: datetime, ip: str, user_agent: str
    ) -> None:
        row = SessionRow(digest, user_id, ip[:45], user_agent[:300], now, now, id=id)
        self._insert(self.db.sessions, row)

    async def session_by_digest(self, digest: str, *, idle_since: datetime) -> Session | None:
        for row in self.db.sessions.where(digest=digest):
            user = self.db.users.first(id=row.user_id)
            if row.last_seen_at > idle_since and user is not None and user.disabled_at is None:
                return Session(user_from(user), digest, row.created_at, row.last_seen_at)
        return None

    async def touch_session(self, digest: str, now: datetime) -> None:
        for row in self.db.sessions.where(digest=digest):
            row.last_seen_at = now

    async def expect_reveal(self, digest: str, nonce: str) -> None:
        for row in self.db.sessions.where(digest=digest):
            row.reveal_nonce = nonce

    async def spend_reveal(self, digest: str, nonce: str) -> bool:
        found = self.db.sessions.where(digest=digest, reveal_nonce=nonce)
        for row in found:
            row.reveal_nonce = None
        return len(found) == 1

    async def delete_session(self, digest: str) -> None:
        self._delete(self.db.sessions, lambda row: row.digest == digest)

    async def delete_user_sessions(self, user_id: str, *, keep_digest: str | None = None) -> None:
        self._delete(
            self.db.sessions, lambda row: row.user_id == user_id and row.digest != keep_digest
        )

    async def sessions_of(self, user_id: str, *, idle_since: datetime) -> list[SessionInfo]:
        live = [
            row for row in self.db.sessions.where(user_id=user_id) if row.last_seen_at > idle_since
        ]
        live.sort(key=lambda row: row.last_seen_at, reverse=True)
        return [
            SessionInfo(
                row.id or "", row.digest, row.ip, row.user_agent, row.created_at, row.last_seen_at
            )
            for row in live
        ]

    async def delete_session_of(self, user_id: str, session_id: str) -> bool:
        deleted = self._delete(
            self.db.sessions, lambda row: row.user_id == user_id and row.id == session_id
        )
        return deleted == 1
