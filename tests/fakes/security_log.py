"""SecurityLog and SecurityLogReader, as paced/storage/security_log.py."""

from __future__ import annotations

import json

from paced.core.records import SecurityEvent
from tests.fakes.rows import SecurityEventRow
from tests.fakes.tables import Rows


class SecurityEventRows(Rows):
    async def add_security_event(self, event: SecurityEvent) -> None:
        row = SecurityEventRow(
            id=self._serial("security_events"),
            user_id=event.user_id,
            event=event.event,
            actor=event.actor,
            ip=event.ip,
            user_agent=event.user_agent,
            detail=json.dumps(dict(event.detail), separators=(",", ":"), sort_keys=True),
            created_at=event.created_at,
        )
        self._insert(self.db.security_events, row)

    async def security_events_of(
        self, user_id: str, *, limit: int, offset: int = 0
    ) -> list[SecurityEvent]:
        found = sorted(
            self.db.security_events.where(user_id=user_id),
            key=lambda row: (row.created_at, row.id),
            reverse=True,
        )
        return [
            SecurityEvent(
                id=row.id,
                user_id=row.user_id,
                event=row.event,
                actor=row.actor,
                ip=row.ip,
                user_agent=row.user_agent,
                detail=json.loads(row.detail),
                created_at=row.created_at,
            )
            for row in found[offset : offset + limit]
        ]
