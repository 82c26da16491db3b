"""`paced purge` (SPEC §2): delete expired and long-revoked codes, tokens and sessions."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from paced.cli.common import fail, load_settings, now, print_json
from paced.settings import Settings
from paced.storage.engine import create_engine, dispose
from paced.storage.migrate import upgrade
from paced.storage.purge import Retention, purge


def retention(settings: Settings) -> Retention:
    return Retention(
        codes=timedelta(days=settings.purge_codes_after_days),
        oauth_tokens=timedelta(days=settings.purge_oauth_tokens_after_days),
        personal_tokens=timedelta(days=settings.purge_personal_tokens_after_days),
        session_idle=timedelta(days=settings.session_idle_days),
        security_events=timedelta(days=settings.purge_security_events_after_days),
        unclaimed_clients=settings.policy().unclaimed_client_ttl,
    )


async def _purge(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.database_url, pool_size=2, timeout=settings.db_timeout)
    try:
        await upgrade(engine)
        return await purge(engine, retention(settings), now(), batch_size=settings.purge_batch_size)
    finally:
        await dispose(engine)


def purge_command() -> None:
    """Delete expired and long-revoked codes, tokens and sessions, old security events, and
    clients that registered themselves but got no grant within a day.

    Works in short batches, so serving goes on; prints how many rows went from each table
    as one JSON object.
    """
    settings = load_settings()
    started = time.monotonic()
    try:
        deleted = asyncio.run(_purge(settings))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
    print_json(
        {
            "deleted": deleted,
            "total": sum(deleted.values()),
            "seconds": round(time.monotonic() - started, 3),
        }
    )
