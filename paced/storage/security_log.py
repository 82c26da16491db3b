"""SecurityLog and SecurityLogReader over SQLAlchemy Core; the operators' query for
`paced audit`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, insert, select

from paced.core.records import SecurityEvent
from paced.storage.connection import StorageConnection
from paced.storage.models import security_events, users

COLUMNS = (
    security_events.c.id,
    security_events.c.user_id,
    security_events.c.event,
    security_events.c.actor,
    security_events.c.ip,
    security_events.c.user_agent,
    security_events.c.detail,
    security_events.c.created_at,
)


def security_event_from(row: Any) -> SecurityEvent:
    return SecurityEvent(
        id=row.id,
        user_id=row.user_id,
        event=row.event,
        actor=row.actor,
        ip=row.ip,
        user_agent=row.user_agent,
        detail=json.loads(row.detail),
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """`paced audit`'s filters; None is no filter."""

    user_id: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class SecurityEventRows:
    connection: StorageConnection

    async def add_security_event(self, event: SecurityEvent) -> None:
        await self.connection.execute(
            insert(security_events).values(
                user_id=event.user_id,
                event=event.event,
                actor=event.actor,
                ip=event.ip,
                user_agent=event.user_agent,
                detail=json.dumps(dict(event.detail), separators=(",", ":"), sort_keys=True),
                created_at=event.created_at,
            )
        )

    async def security_events_of(
        self, user_id: str, *, limit: int, offset: int = 0
    ) -> list[SecurityEvent]:
        rows = await self.connection.execute(
            select(*COLUMNS)
            .where(security_events.c.user_id == user_id)
            .order_by(security_events.c.created_at.desc(), security_events.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [security_event_from(row) for row in rows]

    async def audit(
        self, query: AuditQuery
    ) -> AsyncGenerator[tuple[SecurityEvent, str | None], None]:
        """Every matching event, oldest first, with its account's email; streamed, so
        that a year of events never sits in memory. Close it (`contextlib.aclosing`) when
        leaving early: its cursor must close before the connection does."""
        rows = self.connection.stream(_audit_statement(query))
        try:
            async for row in rows:
                yield security_event_from(row), row.email
        finally:
            await cast(AsyncGenerator[Any, None], rows).aclose()


def _audit_statement(query: AuditQuery) -> Select[Any]:
    statement = (
        select(*COLUMNS, users.c.email)
        .select_from(security_events)
        .outerjoin(users, users.c.id == security_events.c.user_id)
        .order_by(security_events.c.created_at, security_events.c.id)
    )
    if query.user_id is not None:
        statement = statement.where(security_events.c.user_id == query.user_id)
    if query.event is not None:
        statement = statement.where(security_events.c.event == query.event)
    if query.since is not None:
        statement = statement.where(security_events.c.created_at >= query.since)
    if query.until is not None:
        statement = statement.where(security_events.c.created_at < query.until)
    return statement
