"""`paced purge` (docs/reference.md): revoke personal access tokens unused for too long,
then delete expired and long-revoked codes, tokens and sessions."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from paced.cli.common import fail, load_settings, now, print_json
from paced.core import token_expiry, unused_tokens
from paced.settings import Settings
from paced.storage.database import Database, open_database
from paced.storage.errors import Unavailable
from paced.storage.migrate import upgrade
from paced.storage.purge import Retention, purge


def retention(settings: Settings) -> Retention:
    return Retention(
        codes=timedelta(days=settings.purge_codes_after_days),
        oauth_tokens=timedelta(days=settings.purge_oauth_tokens_after_days),
        personal_tokens=timedelta(days=settings.purge_personal_tokens_after_days),
        session_idle=timedelta(days=settings.session_idle_days),
        security_events=timedelta(days=settings.purge_security_events_after_days),
        mail=timedelta(days=settings.purge_mail_after_days),
        unclaimed_clients=settings.policy().unclaimed_client_ttl,
    )


async def revoke_unused(database: Database, settings: Settings, at: datetime) -> int:
    """Revoke the personal access tokens unused for PACED_PAT_UNUSED_REVOKE_AFTER, a
    batch per transaction; how many."""
    unused_for = settings.policy().personal_token_unused_revoke_after
    if unused_for is None:
        return 0
    revoked = 0
    while True:
        async with database.unit_of_work() as store:
            batch = await unused_tokens.revoke_unused(
                store, at, at - unused_for, limit=settings.purge_batch_size
            )
        revoked += len(batch)
        if len(batch) < settings.purge_batch_size:
            return revoked


async def _purge(settings: Settings) -> tuple[int, dict[str, int], int]:
    await upgrade(settings.database_url, db_timeout=settings.db_timeout)
    database = open_database(settings.database_url, pool_size=2, timeout=settings.db_timeout)
    try:
        at = now()
        revoked = await revoke_unused(database, settings, at)
        deleted = await purge(
            database, retention(settings), at, batch_size=settings.purge_batch_size
        )
        # Owners of tokens that expire within a week are told, once per token; the
        # running server's sender mails what is queued here.
        notified = 0
        while True:
            async with database.unit_of_work() as store:
                told = await token_expiry.notify_batch(store, at, settings.policy())
            notified += told
            if told < token_expiry.BATCH:
                return revoked, deleted, notified
    finally:
        await database.close()


def purge_command() -> None:
    """Revoke unused tokens and delete old records.

    Revokes personal access tokens unused for PACED_PAT_UNUSED_REVOKE_AFTER seconds, then
    deletes expired and long-revoked codes, tokens and sessions, and old security events
    (PACED_PURGE_SECURITY_EVENTS_AFTER_DAYS). Works in short batches, so serving goes on;
    prints how many tokens it revoked and how many rows went from each table as one JSON
    object. Also deletes clients that registered themselves but got no grant within a
    day, and queues, once per token, a message to the owner of each personal access
    token that expires within 7 days.
    """
    settings = load_settings()
    started = time.monotonic()
    try:
        revoked, deleted, notified = asyncio.run(_purge(settings))
    except (OSError, Unavailable) as error:
        fail(f"cannot reach the database: {error}")
    print_json(
        {
            "revoked": {"unused_personal_tokens": revoked},
            "deleted": deleted,
            "total": sum(deleted.values()),
            "expiry_notices": notified,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
