"""The Bearer check's statements and rows, for both databases: the hot path of every API
request.

One indexed SELECT by digest, joined to everything the answer needs, run on the
driver's own connection past SQLAlchemy's execution, which on this path costs several
times the query itself (profiled with py-spy under wrk; docs/benchmarks.md). Each
`Database` runs them its own way (paced/storage/sqlite.py, paced/storage/postgres.py).

The rare last-used write runs in a unit of work of its own, as a conditional UPDATE, so
that concurrent requests on any node write it once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, or_, update

from paced.core.records import BearerToken, User

_USER = "u.id, u.email, u.name, u.time_zone, u.created_at, u.updated_at"
# Constant SQL, put together at import: nothing of a request goes into the text.
# ruff: noqa: S608

PERSONAL = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at,
       t.revoked_at IS NOT NULL OR u.disabled_at IS NOT NULL,
       t.last_used_at
FROM personal_tokens t JOIN users u ON u.id = t.user_id
WHERE t.digest = ?
"""

OAUTH = f"""
SELECT {_USER}, t.id, t.digest, t.scopes, t.expires_at,
       t.revoked_at IS NOT NULL OR g.revoked_at IS NOT NULL OR u.disabled_at IS NOT NULL,
       g.last_used_at,
       a.client_id, g.id
FROM access_tokens t
JOIN grants g ON g.id = t.grant_id
JOIN apps a ON a.id = g.app_id
JOIN users u ON u.id = g.user_id
WHERE t.digest = ?
"""

# Where each row carries the token's digest.
DIGEST = 7

Kind = Literal["personal", "oauth"]
When = Callable[[Any], datetime | None]


def token(row: Any, kind: Kind, when: When) -> BearerToken:
    user = User(
        id=row[0],
        email=row[1],
        name=row[2],
        time_zone=row[3],
        created_at=when(row[4]),  # type: ignore[arg-type]
        updated_at=when(row[5]),  # type: ignore[arg-type]
    )
    return BearerToken(
        kind=kind,
        id=row[6],
        digest=row[7],
        user=user,
        scopes=tuple(row[8].split()),
        expires_at=when(row[9]),
        revoked=bool(row[10]),
        last_used_at=when(row[11]),
        client_id=row[12] if kind == "oauth" else None,
        grant_id=row[13] if kind == "oauth" else None,
    )


@lru_cache(maxsize=4096)
def sqlite_time(value: str | None) -> datetime | None:
    # models.UTCDateTime keeps naive UTC text on SQLite. A user's times come back on every
    # request of theirs: parsed once, they are a dict lookup (no secret is kept here).
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def touch(table: Table, row_id: str, now: datetime, unused_since: datetime) -> Any:
    stale: ColumnElement[bool] = or_(
        table.c.last_used_at.is_(None), table.c.last_used_at <= unused_since
    )
    return update(table).where(table.c.id == row_id, stale).values(last_used_at=now)
