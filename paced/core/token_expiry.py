"""Telling owners that a personal access token expires soon: once per token, when it
has `Policy.token_expiry_notice` (7 days) or less to live. `paced purge` runs it.

Each token is marked with a conditional UPDATE in the transaction that queues its
message, so that two purges at once, or one run again, tell each owner once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core import notifications
from paced.core.mail import MailQueue
from paced.core.policy import Policy
from paced.core.records import PersonalToken

BATCH = 500


class ExpiringTokens(MailQueue, Protocol):
    async def tokens_expiring(
        self, now: datetime, before: datetime, *, limit: int
    ) -> list[PersonalToken]:
        """Live tokens expiring after `now` and by `before` whose owner was not told."""
        ...

    async def mark_expiry_notified(self, token_id: str, now: datetime) -> bool:
        """True for the one caller that marked it."""
        ...


async def notify_batch(store: ExpiringTokens, now: datetime, policy: Policy) -> int:
    """Queue the messages of up to BATCH tokens; returns how many."""
    told = 0
    for token in await store.tokens_expiring(now, now + policy.token_expiry_notice, limit=BATCH):
        if await store.mark_expiry_notified(token.id, now):
            await notifications.token_expiring(store, token, now)
            told += 1
    return told
