"""UserStore and SessionStore over SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from paced.core.records import Credentials, Session, SessionInfo, User
from paced.storage.connection import StorageConnection
from paced.storage.errors import Conflict
from paced.storage.models import sessions, users

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.time_zone,
    users.c.created_at,
    users.c.updated_at,
    users.c.email_verified_at,
)


def user_from(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        time_zone=row.time_zone,
        created_at=row.created_at,
        updated_at=row.updated_at,
        email_verified_at=row.email_verified_at,
    )


class UserRows:
    connection: StorageConnection

    async def add_user(self, *, user: User, email_key: str, password_hash: str) -> bool:
        statement = insert(users).values(
            id=user.id,
            email=user.email,
            email_key=email_key,
            name=user.name,
            time_zone=user.time_zone,
            password_hash=password_hash,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(statement)
        except Conflict:
            return False
        return True

    async def credentials_by_email(self, email_key: str) -> Credentials | None:
        row = (
            await self.connection.execute(
                select(
                    *USER_COLUMNS,
                    users.c.password_hash,
                    users.c.disabled_at,
                    users.c.sign_in_unlocked_at,
                ).where(users.c.email_key == email_key)
            )
        ).first()
        if row is None:
            return None
        return Credentials(
            user_from(row),
            row.password_hash,
            disabled=row.disabled_at is not None,
            unlocked_at=row.sign_in_unlocked_at,
        )

    async def user_by_id(self, user_id: str) -> User | None:
        row = (
            await self.connection.execute(select(*USER_COLUMNS).where(users.c.id == user_id))
        ).first()
        return user_from(row) if row else None

    async def all_users(self) -> list[User]:
        rows = await self.connection.execute(
            select(*USER_COLUMNS).order_by(users.c.created_at, users.c.id)
        )
        return [user_from(row) for row in rows]

    async def user_by_email(self, email_key: str) -> User | None:
        row = (
            await self.connection.execute(
                select(*USER_COLUMNS).where(users.c.email_key == email_key)
            )
        ).first()
        return user_from(row) if row else None

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None:
        await self.connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, updated_at=now)
        )

    async def update_profile(
        self, user_id: str, *, name: str, time_zone: str, now: datetime
    ) -> None:
        await self.connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(name=name, time_zone=time_zone, updated_at=now)
        )

    async def set_email_verified(self, user_id: str, now: datetime) -> None:
        await self.connection.execute(
            update(users)
            .where(users.c.id == user_id, users.c.email_verified_at.is_(None))
            .values(email_verified_at=now)
        )

    async def set_disabled(self, user_id: str, disabled_at: datetime | None) -> None:
        await self.connection.execute(
            update(users).where(users.c.id == user_id).values(disabled_at=disabled_at)
        )

    async def set_sign_in_unlocked(self, user_id: str, now: datetime) -> None:
        await self.connection.execute(
            update(users).where(users.c.id == user_id).values(sign_in_unlocked_at=now)
        )


class SessionRows:
    connection: StorageConnection

    async def add_session(
        self, *, id: str, digest: str, user_id: str, now: datetime, ip: str, user_agent: str
    ) -> None:
        await self.connection.execute(
            insert(sessions).values(
                id=id,
                digest=digest,
                user_id=user_id,
                ip=ip[:45],
                user_agent=user_agent[:300],
                created_at=now,
                last_seen_at=now,
            )
        )

    async def session_by_digest(self, digest: str, *, idle_since: datetime) -> Session | None:
        row = (
            await self.connection.execute(
                select(
                    *USER_COLUMNS,
                    sessions.c.created_at.label("session_created_at"),
                    sessions.c.last_seen_at,
                )
                .join(users, users.c.id == sessions.c.user_id)
                .where(
                    sessions.c.digest == digest,
                    sessions.c.last_seen_at > idle_since,
                    users.c.disabled_at.is_(None),
                )
            )
        ).first()
        if row is None:
            return None
        return Session(
            user=user_from(row),
            digest=digest,
            created_at=row.session_created_at,
            last_seen_at=row.last_seen_at,
        )

    async def touch_session(self, digest: str, now: datetime) -> None:
        await self.connection.execute(
            update(sessions).where(sessions.c.digest == digest).values(last_seen_at=now)
        )

    async def expect_reveal(self, digest: str, nonce: str) -> None:
        await self.connection.execute(
            update(sessions).where(sessions.c.digest == digest).values(reveal_nonce=nonce)
        )

    async def spend_reveal(self, digest: str, nonce: str) -> bool:
        result = await self.connection.execute(
            update(sessions)
            .where(sessions.c.digest == digest, sessions.c.reveal_nonce == nonce)
            .values(reveal_nonce=None)
        )
        return result.rowcount == 1

    async def delete_session(self, digest: str) -> None:
        await self.connection.execute(delete(sessions).where(sessions.c.digest == digest))

    async def delete_user_sessions(self, user_id: str, *, keep_digest: str | None = None) -> None:
        statement = delete(sessions).where(sessions.c.user_id == user_id)
        if keep_digest is not None:
            statement = statement.where(sessions.c.digest != keep_digest)
        await self.connection.execute(statement)

    async def sessions_of(self, user_id: str, *, idle_since: datetime) -> list[SessionInfo]:
        rows = await self.connection.execute(
            select(
                sessions.c.id,
                sessions.c.digest,
                sessions.c.ip,
                sessions.c.user_agent,
                sessions.c.created_at,
                sessions.c.last_seen_at,
            )
            .where(sessions.c.user_id == user_id, sessions.c.last_seen_at > idle_since)
            .order_by(sessions.c.last_seen_at.desc())
        )
        return [
            SessionInfo(
                id=row.id or "",
                digest=row.digest,
                ip=row.ip,
                user_agent=row.user_agent,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
            )
            for row in rows
        ]

    async def delete_session_of(self, user_id: str, session_id: str) -> bool:
        result = await self.connection.execute(
            delete(sessions).where(sessions.c.user_id == user_id, sessions.c.id == session_id)
        )
        return result.rowcount == 1
