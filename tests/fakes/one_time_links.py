"""LinkStore, as paced/storage/one_time_links.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.one_time_links import Link, Purpose
from tests.fakes.rows import LinkRow
from tests.fakes.tables import Rows


class LinkRows(Rows):
    async def add_link(
        self, *, digest: str, user_id: str, purpose: Purpose, now: datetime, expires_at: datetime
    ) -> None:
        self._insert(self.db.one_time_links, LinkRow(digest, user_id, purpose, now, expires_at))

    async def link_by_digest(self, digest: str) -> Link | None:
        row = self.db.one_time_links.first(digest=digest)
        return Link(row.user_id, row.purpose, row.expires_at, row.used_at) if row else None

    async def use_link(self, digest: str, purpose: Purpose, now: datetime) -> bool:
        row = self.db.one_time_links.first(digest=digest, purpose=purpose, used_at=None)
        if row is None or row.expires_at <= now:
            return False
        row.used_at = now
        return True

    async def end_links(self, user_id: str, purpose: Purpose, now: datetime) -> None:
        for row in self.db.one_time_links.where(user_id=user_id, purpose=purpose, used_at=None):
            row.used_at = now
