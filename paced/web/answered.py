"""`Answered`: what `paced.web.edge.Edge` keeps of every answered request, for its
access-log line and the metrics.

The loop only appends an `Entry` (a tuple of what the request was, and of what it
counted in `paced.web.metrics.COUNTS`) to a batch. The batch goes, `BATCH_SECONDS` after
its first entry, to a thread of its own, which writes the batch's access-log lines
(`paced.logs.AccessLog`) and counts it in the metrics
(`paced.web.metrics.observe_requests`). Either costs the loop nothing more than the
append: code run once per request between requests costs several times what the same
code costs run for a batch at once (docs/benchmarks.md). The thread wakes a hundred
times a second at most, however many requests there are, and a slow stream (a full pipe
to the journal) never holds requests up. Lines and counts are at most BATCH_SECONDS
late; `close` writes and counts what is left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from queue import SimpleQueue

from paced.logs import REQUEST_ID, AccessLog, Counted, Entry
from paced.web import metrics as request_metrics

log = logging.getLogger("paced.web")

# How long an entry may wait for the entries after it.
BATCH_SECONDS = 0.01


class Answered:
    def __init__(self, log: AccessLog | None, *, metrics: bool) -> None:
        self.log = log
        self.metrics = metrics
        self._batch: list[Entry] = []
        self._batches: SimpleQueue[list[Entry] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    def add(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        client: str | None,
        counts: list[Counted] | None = None,
    ) -> None:
        """One answered request, from the loop, with what it counted."""
        self._batch.append(
            (time.time(), REQUEST_ID.get(), method, route, status, seconds, client, counts)
        )
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self._hand_over)

    def _hand_over(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="answered", daemon=True)
            self._thread.start()
        self._batches.put(batch)

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            try:
                if self.log is not None:
                    self.log.write(batch)
                if self.metrics:
                    request_metrics.observe_requests(batch)
            except Exception:  # the batches after it are still written and counted
                log.exception("writing or counting %d answered requests failed", len(batch))

    def close(self) -> None:
        """Write and count what is pending, and stop the thread."""
        self._hand_over()
        if self._thread is not None:
            self._batches.put(None)
            self._thread.join()
            self._thread = None
