"""The sender: a task of the server process that sends what the queue holds.

It claims due messages (`MailOutbox.claim_due_mail`: any number of senders on any number
of nodes share one queue), composes and hands each to the transport, then records the
outcome: sent, or failed and due again after the next of `Policy.mail_retry_delays`, or
given up after the last. It wakes when a request of its own process queued a message
(`wake`), and otherwise looks every `poll` seconds, for messages queued elsewhere and
retries that came due. A message held by a sender that died is due again after `HOLD`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from paced.core import mail
from paced.core.policy import Policy
from paced.mail.compose import Composer
from paced.mail.transport import Transport
from paced.storage.database import Database

log = logging.getLogger("paced.mail")

HOLD = timedelta(minutes=5)
BATCH = 20


class MailSender:
    def __init__(
        self,
        database: Database,
        transport: Transport,
        composer: Composer,
        policy: Policy,
        clock: Callable[[], datetime],
        *,
        poll: float = 10.0,
    ) -> None:
        self.database, self.transport, self.composer = database, transport, composer
        self._policy, self._clock, self._poll = policy, clock, poll
        self._wanted = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A message was queued: send it now rather than at the next look."""
        self._wanted.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="paced-mail")

    async def aclose(self) -> None:
        # Cancelling alone is not enough: on Python 3.11, `asyncio.wait_for` (which the
        # SMTP client awaits each reply with) drops a cancellation that arrives as the
        # reply does, and the task would go on to wait for the next look. So the task
        # also stops at the flag, which it checks before each round.
        self._closing = True
        self._wanted.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # `wait`, not `await task`: the task's CancelledError stays the task's, and
            # a cancellation of the caller's own still reaches the caller.
            await asyncio.wait([task])

    async def _run(self) -> None:
        while not self._closing:
            self._wanted.clear()
            try:
                while await self.send_due() == BATCH and not self._closing:
                    pass
            except Exception:  # the database is down, say: look again later
                log.exception("mail: the queue could not be read")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wanted.wait()

    async def send_due(self) -> int:
        """Send what is due now; returns how many messages were claimed."""
        now = self._clock()
        async with self.database.unit_of_work() as store:
            claimed = await store.claim_due_mail(now, hold_until=now + HOLD, limit=BATCH)
        for queued in claimed:
            try:
                await self.transport.send(self.composer.compose(queued))
            except Exception as error:
                attempts = queued.attempts + 1
                failed_at = self._clock()
                retry_at = mail.retry_at(attempts, failed_at, self._policy)
                log.warning(
                    "mail %s (%s) not sent, attempt %d: %s; %s",
                    queued.message_id,
                    queued.kind,
                    attempts,
                    mail.error_text(error),
                    f"retry at {retry_at.isoformat()}" if retry_at else "given up",
                )
                async with self.database.unit_of_work() as store:
                    await store.mail_failed(
                        queued.id, failed_at, retry_at=retry_at, error=mail.error_text(error)
                    )
                continue
            async with self.database.unit_of_work() as store:
                await store.mail_sent(queued.id, self._clock())
        return len(claimed)
