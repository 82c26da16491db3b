"""DeviceCodes over SQLAlchemy Core: device authorizations (RFC 8628).

Every change of state is a conditional UPDATE whose row count names the one caller that
made it: the poll that came in time, the user's answer, the poll that gets the tokens.
On SQLite writers queue behind BEGIN IMMEDIATE; on PostgreSQL the loser's UPDATE waits
for the winner's row lock, then finds its condition false.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from paced.core.records import DeviceCode
from paced.storage.apps import APP_COLUMNS, app_from
from paced.storage.connection import StorageConnection
from paced.storage.grants import GRANT_COLUMNS, grant_from
from paced.storage.models import apps, device_codes, grants

_d = device_codes.c

_SELECT = (
    select(
        _d.digest.label("device_digest"),
        _d.user_code_digest.label("device_user_code_digest"),
        _d.scopes.label("device_scopes"),
        _d.created_at.label("device_created_at"),
        _d.expires_at.label("device_expires_at"),
        _d.poll_interval.label("device_poll_interval"),
        _d.next_poll_at.label("device_next_poll_at"),
        _d.denied_at.label("device_denied_at"),
        _d.used_at.label("device_used_at"),
        _d.resource.label("device_resource"),
        *APP_COLUMNS,
        *GRANT_COLUMNS,
    )
    .join(apps, apps.c.id == _d.app_id)
    .outerjoin(grants, grants.c.id == _d.grant_id)
)
BY_DIGEST = _SELECT.where(_d.digest == bindparam("digest"))
BY_USER_CODE = _SELECT.where(_d.user_code_digest == bindparam("user_code_digest"))

_UNANSWERED = (_d.grant_id.is_(None), _d.denied_at.is_(None), _d.expires_at > bindparam("now"))
POLL = (
    update(device_codes)
    .where(_d.digest == bindparam("code_digest"), _d.next_poll_at <= bindparam("now"))
    .values(next_poll_at=bindparam("next_poll_at"))
)
SLOW_DOWN = (
    update(device_codes)
    .where(_d.digest == bindparam("code_digest"))
    .values(
        poll_interval=_d.poll_interval + bindparam("step"),
        next_poll_at=bindparam("next_poll_at"),
    )
)
APPROVE = (
    update(device_codes)
    .where(_d.digest == bindparam("code_digest"), *_UNANSWERED)
    .values(grant_id=bindparam("grant_id"))
)
DENY = (
    update(device_codes)
    .where(_d.digest == bindparam("code_digest"), *_UNANSWERED)
    .values(denied_at=bindparam("now"))
)
CONSUME = (
    update(device_codes)
    .where(
        _d.digest == bindparam("code_digest"),
        _d.grant_id.is_not(None),
        _d.used_at.is_(None),
    )
    .values(used_at=bindparam("now"))
)


def _from(row: Any) -> DeviceCode:
    return DeviceCode(
        digest=row.device_digest,
        user_code_digest=row.device_user_code_digest,
        app=app_from(row),
        scopes=tuple(row.device_scopes.split()),
        created_at=row.device_created_at,
        expires_at=row.device_expires_at,
        interval=row.device_poll_interval,
        next_poll_at=row.device_next_poll_at,
        grant=grant_from(row) if row.grant_id is not None else None,
        denied_at=row.device_denied_at,
        used_at=row.device_used_at,
        resource=row.device_resource,
    )


class DeviceCodeRows:
    connection: StorageConnection

    def _insert(self) -> Insert:
        # A user code already taken stores nothing, on both databases, instead of an
        # error that would end the transaction: the core draws another.
        if self.connection.dialect.name == "postgresql":
            return postgresql.insert(device_codes).on_conflict_do_nothing()
        return sqlite.insert(device_codes).on_conflict_do_nothing()

    async def add_device_code(self, code: DeviceCode) -> bool:
        result = await self.connection.execute(
            self._insert().values(
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
        )
        return bool(result.rowcount == 1)

    async def device_code_by_digest(self, digest: str) -> DeviceCode | None:
        row = (await self.connection.execute(BY_DIGEST, {"digest": digest})).first()
        return _from(row) if row else None

    async def device_code_by_user_code(self, user_code_digest: str) -> DeviceCode | None:
        row = (
            await self.connection.execute(BY_USER_CODE, {"user_code_digest": user_code_digest})
        ).first()
        return _from(row) if row else None

    async def poll_device_code(self, digest: str, now: datetime, next_poll_at: datetime) -> bool:
        result = await self.connection.execute(
            POLL, {"code_digest": digest, "now": now, "next_poll_at": next_poll_at}
        )
        return bool(result.rowcount == 1)

    async def slow_down_device_code(self, digest: str, step: int, next_poll_at: datetime) -> None:
        await self.connection.execute(
            SLOW_DOWN, {"code_digest": digest, "step": step, "next_poll_at": next_poll_at}
        )

    async def approve_device_code(self, digest: str, grant_id: str, now: datetime) -> bool:
        result = await self.connection.execute(
            APPROVE, {"code_digest": digest, "grant_id": grant_id, "now": now}
        )
        return bool(result.rowcount == 1)

    async def deny_device_code(self, digest: str, now: datetime) -> bool:
        result = await self.connection.execute(DENY, {"code_digest": digest, "now": now})
        return bool(result.rowcount == 1)

    async def consume_device_code(self, digest: str, now: datetime) -> bool:
        result = await self.connection.execute(CONSUME, {"code_digest": digest, "now": now})
        return bool(result.rowcount == 1)
