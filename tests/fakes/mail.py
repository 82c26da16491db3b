"""MailQueue and MailOutbox, as paced/storage/mail.py."""

from __future__ import annotations

import json
from datetime import datetime

from paced.core.mail import Mail, QueuedMail
from tests.fakes.rows import MailRow
from tests.fakes.tables import Rows


class MailRows(Rows):
    async def queue_mail(self, mail: Mail, *, message_id: str) -> None:
        user = self.db.users.first(id=mail.user_id)
        if user is None:
            return
        row = MailRow(
            id=self._serial("mail_queue"),
            message_id=message_id,
            user_id=mail.user_id,
            recipient=user.email,
            kind=mail.kind,
            ip=mail.origin.ip,
            user_agent=mail.origin.user_agent,
            detail=json.dumps(dict(mail.detail)),
            created_at=mail.created_at,
            next_attempt_at=mail.created_at,
            attempts=0,
            last_error="",
        )
        self._insert(self.db.mail_queue, row)

    async def claim_due_mail(
        self, now: datetime, *, hold_until: datetime, limit: int
    ) -> list[QueuedMail]:
        due = [
            (row.next_attempt_at, row.id, row)
            for row in self.db.mail_queue.rows
            if row.next_attempt_at is not None and row.next_attempt_at <= now
        ]
        claimed = [row for _, _, row in sorted(due, key=lambda d: (d[0], d[1]))[:limit]]
        for row in claimed:
            row.next_attempt_at = hold_until
        queued = []
        for row in sorted(claimed, key=lambda row: row.id):
            user = self.db.users.first(id=row.user_id) if row.user_id else None
            queued.append(
                QueuedMail(
                    id=row.id,
                    message_id=row.message_id,
                    recipient=row.recipient,
                    name=user.name if user else "",
                    kind=row.kind,
                    created_at=row.created_at,
                    ip=row.ip,
                    user_agent=row.user_agent,
                    detail=json.loads(row.detail),
                    attempts=row.attempts,
                )
            )
        return queued

    async def mail_sent(self, mail_id: int, now: datetime) -> None:
        for row in self.db.mail_queue.where(id=mail_id):
            kept = {k: v for k, v in json.loads(row.detail).items() if k != "link"}
            row.sent_at, row.next_attempt_at, row.detail = now, None, json.dumps(kept)
            row.attempts += 1

    async def mail_failed(
        self, mail_id: int, now: datetime, *, retry_at: datetime | None, error: str
    ) -> None:
        for row in self.db.mail_queue.where(id=mail_id):
            row.next_attempt_at, row.last_error = retry_at, error
            row.attempts += 1
