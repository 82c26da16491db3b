"""`paced purge` (SPEC §2): delete expired and long-revoked codes, tokens and sessions."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from paced.cli.common import fail, load_settings, now, print_json
from paced.core import token_expiry
from paced.settings import Settings
from paced.storage.engine import create_engine, dispose
from paced.storage.migrate import upgrade
from paced.storage.purge import Retention, purge
from paced.storage.unit_of_work import unit_of_work


def retention(settings: Settings) -> Retention:
    return Retention(
        codes=timedelta(days=settings.purge_codes_after_days),
        oauth_tokens=timedelta(days=settings.purge_oauth_tokens_after_days),
        personal_tokens=timedelta(days=settings.purge_personal_tokens_after_days),
        session_idle=timedelta(days=settings.session_idle_days),
        security_events=timedelta(days=settings.purge_security_events_after_days),
        mail=timedelta(days=settings.purge_mail_after_days),
    )


async def _purge(settings: Settings) -> tuple[dict[str, int], int]:
    engine = create_engine(settings.database_url, pool_size=2, timeout=settings.db_timeout)
    try:
        await upgrade(engine)
        when = now()
        deleted = await purge(
            engine, retention(settings), when, batch_size=settings.purge_batch_size
        )
        # Owners of tokens that expire within a week are told, once per token; the
        # running server's sender mails what is queued here.
        notified = 0
        while True:
            async with unit_of_work(engine) as store:
                told = await token_expiry.notify_batch(store, when, settings.policy())
            notified += told
            if told < token_expiry.BATCH:
                return deleted, notified
    finally:
        await dispose(engine)


def purge_command() -> None:
    """Delete expired and long-revoked codes, tokens and sessions, and old security events.

    Works in short batches, so serving goes on; prints how many rows went from each table
    as one JSON object. Also queues, once per token, a message to the owner of each
    personal access token that expires within 7 days.
    """
    settings = load_settings()
    started = time.monotonic()
    try:
        deleted, notified = asyncio.run(_purge(settings))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
    print_json(
        {
            "deleted": deleted,
            "total": sum(deleted.values()),
            "expiry_notices": notified,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
