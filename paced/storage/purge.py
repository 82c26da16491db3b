"""`paced purge` (docs/reference.md §2): delete what stopped working long enough ago, a
batch at a time.

Each table is walked in primary-key order: a batch of ids is read in a read (on SQLite
it takes no lock), then deleted in a short unit of work of its own
that checks the condition again, so that a row that came back to life meanwhile (a
session used again) is kept. No transaction ever holds more than one batch, so serving
goes on while a purge runs, on SQLite too.

What goes, and when (`Retention`, from settings):

    authorization_codes  used or expired more than `codes` ago
    device_codes         expired more than `codes` ago (RFC 8628 device authorizations)
    access_tokens        expired or revoked more than `oauth_tokens` ago
    refresh_tokens       expired, revoked or replaced more than `oauth_tokens` ago; until
                         then a replaced one presented again still revokes its grant
    grants               revoked more than `oauth_tokens` ago (their tokens went before)
    personal_tokens      expired or revoked more than `personal_tokens` ago; until then
                         Developer settings shows them, as history
    sessions             idle for `session_idle` (they no longer sign anyone in)
    security_events      older than `security_events`
    one_time_links       used or expired more than `codes` ago
    mail_queue           sent or given up more than `mail` ago
    webauthn_challenges  expired (a passkey request that nobody answered)
    apps                 without an owner (registered by themselves, RFC 7591, or known
                         by a metadata document), made more than `unclaimed_clients` ago,
                         with no grant left
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, or_, select

from paced.storage.database import Database
from paced.storage.models import (
    access_tokens,
    apps,
    authorization_codes,
    device_codes,
    grants,
    mail_queue,
    one_time_links,
    personal_tokens,
    refresh_tokens,
    security_events,
    sessions,
    webauthn_challenges,
)

BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Retention:
    codes: timedelta = timedelta(days=1)
    oauth_tokens: timedelta = timedelta(days=30)
    personal_tokens: timedelta = timedelta(days=90)
    session_idle: timedelta = timedelta(days=14)
    security_events: timedelta = timedelta(days=365)
    mail: timedelta = timedelta(days=30)
    unclaimed_clients: timedelta = timedelta(days=1)


def _steps(now: datetime, keep: Retention) -> list[tuple[Table, ColumnElement[bool]]]:
    """Each table with the condition of its rows that go, children before parents."""
    code, oauth, personal = now - keep.codes, now - keep.oauth_tokens, now - keep.personal_tokens
    c, a, r = authorization_codes.c, access_tokens.c, refresh_tokens.c
    return [
        (authorization_codes, or_(c.used_at < code, c.expires_at < code)),
        (device_codes, device_codes.c.expires_at < code),
        (access_tokens, or_(a.expires_at < oauth, a.revoked_at < oauth)),
        (refresh_tokens, or_(r.expires_at < oauth, r.revoked_at < oauth, r.rotated_at < oauth)),
        (grants, grants.c.revoked_at < oauth),
        (
            personal_tokens,
            or_(personal_tokens.c.expires_at < personal, personal_tokens.c.revoked_at < personal),
        ),
        (sessions, sessions.c.last_seen_at <= now - keep.session_idle),
        (security_events, security_events.c.created_at < now - keep.security_events),
        (
            one_time_links,
            or_(one_time_links.c.used_at < code, one_time_links.c.expires_at < code),
        ),
        (
            mail_queue,
            and_(mail_queue.c.next_attempt_at.is_(None), mail_queue.c.created_at < now - keep.mail),
        ),
        (webauthn_challenges, webauthn_challenges.c.expires_at < now),
        (
            apps,
            and_(
                apps.c.owner_id.is_(None),
                apps.c.created_at < now - keep.unclaimed_clients,
                ~exists().where(grants.c.app_id == apps.c.id),
            ),
        ),
    ]


async def _purge_table(
    database: Database, table: Table, condition: ColumnElement[bool], batch_size: int
) -> int:
    (key,) = table.primary_key.columns
    deleted = 0
    after: Any = None
    while True:
        query = select(key).where(condition).order_by(key).limit(batch_size)
        if after is not None:
            query = query.where(key > after)
        async with database.reading() as store:
            ids = list((await store.connection.execute(query)).scalars())
        if not ids:
            return deleted
        async with database.unit_of_work() as store:
            result = await store.connection.execute(delete(table).where(key.in_(ids), condition))
        deleted += result.rowcount
        if len(ids) < batch_size:
            return deleted
        after = ids[-1]


async def purge(
    database: Database, retention: Retention, now: datetime, *, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """How many rows went from each table."""
    return {
        table.name: await _purge_table(database, table, condition, batch_size)
        for table, condition in _steps(now, retention)
    }
