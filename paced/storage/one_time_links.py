"""LinkStore over SQLAlchemy Core: a link's token is kept only as its digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from paced.core.one_time_links import Link, Purpose
from paced.storage.connection import StorageConnection
from paced.storage.models import one_time_links

_c = one_time_links.c


class LinkRows:
    connection: StorageConnection

    async def add_link(
        self, *, digest: str, user_id: str, purpose: Purpose, now: datetime, expires_at: datetime
    ) -> None:
        await self.connection.execute(
            insert(one_time_links).values(
                digest=digest,
                user_id=user_id,
                purpose=purpose,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def link_by_digest(self, digest: str) -> Link | None:
        row = (
            await self.connection.execute(
                select(_c.user_id, _c.purpose, _c.expires_at, _c.used_at).where(_c.digest == digest)
            )
        ).first()
        return Link(row.user_id, row.purpose, row.expires_at, row.used_at) if row else None

    async def use_link(self, digest: str, purpose: Purpose, now: datetime) -> bool:
        result = await self.connection.execute(
            update(one_time_links)
            .where(
                _c.digest == digest,
                _c.purpose == purpose,
                _c.used_at.is_(None),
                _c.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def end_links(self, user_id: str, purpose: Purpose, now: datetime) -> None:
        await self.connection.execute(
            update(one_time_links)
            .where(_c.user_id == user_id, _c.purpose == purpose, _c.used_at.is_(None))
            .values(used_at=now)
        )
