"""DeviceCodes, as paced/storage/device_codes.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import DeviceCode
from tests.fakes.apps import app_from
from tests.fakes.grants import grant_from
from tests.fakes.rows import DeviceCodeRow
from tests.fakes.tables import NoParent, Rows


class DeviceCodeRows(Rows):
    async def add_device_code(self, code: DeviceCode) -> bool:
        row = DeviceCodeRow(
            digest=code.digest,
            user_code_digest=code.user_code_digest,
            app_id=code.app.id,
            scopes=" ".join(code.scopes),
            created_at=code.created_at,
            expires_at=code.expires_at,
            poll_interval=code.interval,
            next_poll_at=code.next_poll_at,
            grant_id=None,
            denied_at=None,
            used_at=None,
            resource=code.resource,
        )
        return self._insert_or_nothing(self.db.device_codes, row)

    def _device_code(self, row: DeviceCodeRow | None) -> DeviceCode | None:
        app = self.db.apps.first(id=row.app_id) if row else None
        if row is None or app is None:
            return None
        grant = self.db.grants.first(id=row.grant_id) if row.grant_id else None
        return DeviceCode(
            digest=row.digest,
            user_code_digest=row.user_code_digest,
            app=app_from(app),
            scopes=tuple(row.scopes.split()),
            created_at=row.created_at,
            expires_at=row.expires_at,
            interval=row.poll_interval,
            next_poll_at=row.next_poll_at,
            grant=grant_from(grant) if grant else None,
            denied_at=row.denied_at,
            used_at=row.used_at,
            resource=row.resource,
        )

    async def device_code_by_digest(self, digest: str) -> DeviceCode | None:
        return self._device_code(self.db.device_codes.first(digest=digest))

    async def device_code_by_user_code(self, user_code_digest: str) -> DeviceCode | None:
        return self._device_code(self.db.device_codes.first(user_code_digest=user_code_digest))

    async def poll_device_code(self, digest: str, now: datetime, next_poll_at: datetime) -> bool:
        row = self.db.device_codes.first(digest=digest)
        if row is None or row.next_poll_at > now:
            return False
        row.next_poll_at = next_poll_at
        return True

    async def slow_down_device_code(self, digest: str, step: int, next_poll_at: datetime) -> None:
        for row in self.db.device_codes.where(digest=digest):
            row.poll_interval += step
            row.next_poll_at = next_poll_at

    def _unanswered(self, digest: str, now: datetime) -> DeviceCodeRow | None:
        row = self.db.device_codes.first(digest=digest, grant_id=None, denied_at=None)
        return row if row is not None and row.expires_at > now else None

    async def approve_device_code(self, digest: str, grant_id: str, now: datetime) -> bool:
        row = self._unanswered(digest, now)
        if row is None:
            return False
        if self.db.grants.first(id=grant_id) is None:
            raise NoParent(f"device_codes.grant_id: no grants {grant_id}")
        row.grant_id = grant_id
        return True

    async def deny_device_code(self, digest: str, now: datetime) -> bool:
        row = self._unanswered(digest, now)
        if row is None:
            return False
        row.denied_at = now
        return True

    async def consume_device_code(self, digest: str, now: datetime) -> bool:
        row = self.db.device_codes.first(digest=digest, used_at=None)
        if row is None or row.grant_id is None:
            return False
        row.used_at = now
        return True
