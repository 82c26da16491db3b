"""MailQueue and MailOutbox over SQLAlchemy Core: the `mail_queue` table.

A message is claimed by a conditional UPDATE that moves its due time ahead (the row
count names the sender that won), so several senders, on several nodes, never send one
message twice while they run; one that dies holding a message leaves it due again later.
On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so that concurrent senders
share the due messages instead of queueing for the same ones.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, select, update

from paced.core.mail import Mail, QueuedMail
from paced.storage.connection import StorageConnection
from paced.storage.models import mail_queue, users

_q = mail_queue.c


class MailRows:
    connection: StorageConnection

    async def queue_mail(self, mail: Mail, *, message_id: str) -> None:
        recipient = (
            await self.connection.execute(select(users.c.email).where(users.c.id == mail.user_id))
        ).scalar()
        if recipient is None:
            return
        await self.connection.execute(
            insert(mail_queue).values(
                message_id=message_id,
                user_id=mail.user_id,
                recipient=recipient,
                kind=mail.kind,
                ip=mail.origin.ip,
                user_agent=mail.origin.user_agent,
                detail=json.dumps(dict(mail.detail)),
                created_at=mail.created_at,
                next_attempt_at=mail.created_at,
                attempts=0,
                last_error="",
            )
        )

    async def claim_due_mail(
        self, now: datetime, *, hold_until: datetime, limit: int
    ) -> list[QueuedMail]:
        due = (
            await self.connection.execute(
                select(_q.id)
                .where(_q.next_attempt_at <= now)
                .order_by(_q.next_attempt_at, _q.id)
                .limit(limit)
                # PostgreSQL: pass over rows another sender is claiming, rather than all
                # wait for the same ones (SQLite has one writer at a time anyway).
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        claimed = []
        for mail_id in list(due):
            result = await self.connection.execute(
                update(mail_queue)
                .where(_q.id == mail_id, _q.next_attempt_at <= now)
                .values(next_attempt_at=hold_until)
            )
            if result.rowcount == 1:
                claimed.append(mail_id)
        if not claimed:
            return []
        rows = await self.connection.execute(
            select(mail_queue, users.c.name)
            .outerjoin(users, users.c.id == _q.user_id)
            .where(_q.id.in_(claimed))
            .order_by(_q.id)
        )
        return [
            QueuedMail(
                id=row.id,
                message_id=row.message_id,
                recipient=row.recipient,
                name=row.name or "",
                kind=row.kind,
                created_at=row.created_at,
                ip=row.ip,
                user_agent=row.user_agent,
                detail=json.loads(row.detail),
                attempts=row.attempts,
            )
            for row in rows
        ]

    async def mail_sent(self, mail_id: int, now: datetime) -> None:
        detail = (await self.connection.execute(select(_q.detail).where(_q.id == mail_id))).scalar()
        kept = {k: v for k, v in json.loads(detail or "{}").items() if k != "link"}
        await self.connection.execute(
            update(mail_queue)
            .where(_q.id == mail_id)
            .values(
                sent_at=now,
                next_attempt_at=None,
                attempts=_q.attempts + 1,
                detail=json.dumps(kept),
            )
        )

    async def mail_failed(
        self, mail_id: int, now: datetime, *, retry_at: datetime | None, error: str
    ) -> None:
        await self.connection.execute(
            update(mail_queue)
            .where(_q.id == mail_id)
            .values(next_attempt_at=retry_at, attempts=_q.attempts + 1, last_error=error)
        )
