"""PersonalTokenStore over SQLAlchemy Core: rows keep the secret's digest, never the secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_, select, update

from paced.core import scopes
from paced.core.records import PersonalToken
from paced.storage.connection import StorageConnection
from paced.storage.models import personal_tokens

COLUMNS = (
    personal_tokens.c.id,
    personal_tokens.c.user_id,
    personal_tokens.c.name,
    personal_tokens.c.scopes,
    personal_tokens.c.created_at,
    personal_tokens.c.expires_at,
    personal_tokens.c.last_used_at,
    personal_tokens.c.revoked_at,
    personal_tokens.c.hint,
)


def personal_token_from(row: Any) -> PersonalToken:
    return PersonalToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        hint=row.hint,
    )


class PersonalTokenRows:
    connection: StorageConnection

    async def add_personal_token(self, token: PersonalToken, digest: str) -> None:
        await self.connection.execute(
            insert(personal_tokens).values(
                id=token.id,
                user_id=token.user_id,
                name=token.name,
                digest=digest,
                scopes=scopes.render(token.scopes),
                created_at=token.created_at,
                expires_at=token.expires_at,
                last_used_at=token.last_used_at,
                revoked_at=token.revoked_at,
                hint=token.hint,
            )
        )

    async def personal_token_by_id(self, token_id: str) -> PersonalToken | None:
        row = (
            await self.connection.execute(select(*COLUMNS).where(personal_tokens.c.id == token_id))
        ).first()
        return personal_token_from(row) if row else None

    async def personal_token_by_digest(self, digest: str) -> PersonalToken | None:
        row = (
            await self.connection.execute(
                select(*COLUMNS).where(personal_tokens.c.digest == digest)
            )
        ).first()
        return personal_token_from(row) if row else None

    async def personal_tokens_of(self, user_id: str) -> list[PersonalToken]:
        rows = await self.connection.execute(
            select(*COLUMNS)
            .where(personal_tokens.c.user_id == user_id)
            .order_by(personal_tokens.c.created_at.desc(), personal_tokens.c.id)
        )
        return [personal_token_from(row) for row in rows]

    async def revoke_personal_token(self, token_id: str, now: datetime) -> bool:
        result = await self.connection.execute(
            update(personal_tokens)
            .where(personal_tokens.c.id == token_id, personal_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    # --- UnusedPersonalTokens --------------------------------------------------------

    async def unused_personal_tokens(
        self, unused_since: datetime, now: datetime, *, limit: int
    ) -> list[PersonalToken]:
        t = personal_tokens.c
        rows = await self.connection.execute(
            select(*COLUMNS)
            .where(
                t.revoked_at.is_(None),
                or_(t.expires_at.is_(None), t.expires_at > now),
                _unused_since(unused_since),
            )
            .order_by(t.created_at, t.id)
            .limit(limit)
        )
        return [personal_token_from(row) for row in rows]

    async def revoke_unused_personal_token(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> bool:
        t = personal_tokens.c
        result = await self.connection.execute(
            update(personal_tokens)
            .where(t.id == token_id, t.revoked_at.is_(None), _unused_since(unused_since))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    # --- ExpiringTokens ----------------------------------------------------------------

    async def tokens_expiring(
        self, now: datetime, before: datetime, *, limit: int
    ) -> list[PersonalToken]:
        t = personal_tokens.c
        rows = await self.connection.execute(
            select(*COLUMNS)
            .where(
                t.revoked_at.is_(None),
                t.expiry_notified_at.is_(None),
                t.expires_at > now,
                t.expires_at <= before,
            )
            .order_by(t.expires_at)
            .limit(limit)
        )
        return [personal_token_from(row) for row in rows]

    async def mark_expiry_notified(self, token_id: str, now: datetime) -> bool:
        t = personal_tokens.c
        result = await self.connection.execute(
            update(personal_tokens)
            .where(t.id == token_id, t.expiry_notified_at.is_(None))
            .values(expiry_notified_at=now)
        )
        return result.rowcount == 1


def _unused_since(since: datetime) -> ColumnElement[bool]:
    t = personal_tokens.c
    return func.coalesce(t.last_used_at, t.created_at) < since
