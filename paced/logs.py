"""Log lines for operators: one JSON object a line, or plain text for a person at a terminal.

Every record may carry `extra={"fields": {...}}`; both formats show those fields, and the
request id of the request being served (`REQUEST_ID`, set by the web layer). Messages and
fields hold no secret: routes are templates, never raw URLs or query strings.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, Literal, TextIO

# The request being served, for every log line written while serving it.
REQUEST_ID: ContextVar[str | None] = ContextVar("paced_request_id", default=None)

ACCESS_LOGGER = "paced.access"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = getattr(record, "fields", None) or {}
    return fields


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, …fields, "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`12:00:00 INFO  message key=value …`, for a person reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        parts = [f"{when} {record.levelname:<5} {record.getMessage()}"]
        parts += [f"{key}={value}" for key, value in _fields(record).items()]
        request_id = REQUEST_ID.get()
        if request_id is not None and "request_id" not in _fields(record):
            parts.append(f"request_id={request_id}")
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


# What a request counted in a metric (`paced.web.metrics`): the metric, its labels and
# the amount.
Counted = tuple[Any, tuple[str, ...], int]
# What is kept of an answered request for its access-log line and its metrics
# (`paced.web.answered`): the time it was answered, its request id, method, route,
# status, duration in seconds, client address, and what it counted (None with metrics
# off).
Entry = tuple[float, str | None, str, str, int, float, str | None, list[Counted] | None]


def _milliseconds(seconds: float) -> float:
    """In milliseconds to two decimals, as round(seconds * 1000, 2) gives them."""
    return int(seconds * 100_000 + 0.5) / 100


# How many kinds of line (method, route, status) keep the text they share.
FIXED_PARTS_KEPT = 1024


class AccessLog:
    """The access log: one line per request, shaped as the formatters above shape a record
    of the `paced.access` logger with the fields method, route, status, duration_ms and
    client, without the per-record cost of the logging module (a record, a lock, a
    handler, a formatter and a write for every request).

    It writes batches of entries, from the thread of `paced.web.answered.Answered`, never
    from the loop: a slow stream (a full pipe to the journal) never holds requests up,
    and a batch formatted in one go costs less than the same lines formatted one at a time
    between requests (docs/benchmarks.md).
    """

    def __init__(self, stream: TextIO, fmt: Literal["json", "text"]) -> None:
        self._stream = stream
        self._line = self._json if fmt == "json" else self._text
        self._fixed_parts = self._json_parts if fmt == "json" else self._text_parts
        # The time of day up to the second, made once a second.
        self._second = -1
        self._stamp = ""
        # What a line says of its method, route and status, made once for each.
        self._fixed: dict[tuple[str, str, int], tuple[str, str]] = {}

    def write(self, batch: Sequence[Entry]) -> None:
        text = "".join([self._line(entry) for entry in batch])
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed stream: nothing to write to
            pass

    def _parts(self, method: str, route: str, status: int) -> tuple[str, str]:
        key = (method, route, status)
        parts = self._fixed.get(key)
        if parts is None:
            parts = self._fixed_parts(method, route, status)
            # Routes are templates and statuses few, but a method may be any word.
            if len(self._fixed) < FIXED_PARTS_KEPT:
                self._fixed[key] = parts
        return parts

    def _now(self, now: float, utc: bool) -> tuple[str, int]:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = (
                datetime.fromtimestamp(second, UTC).isoformat()[:19]
                if utc
                else datetime.fromtimestamp(second).strftime("%H:%M:%S")
            )
        return self._stamp, int((now - second) * 1000)

    @staticmethod
    def _json_parts(method: str, route: str, status: int) -> tuple[str, str]:
        """What comes before the request id, and between it and the duration."""
        return (
            f'"level": "info", "logger": "{ACCESS_LOGGER}", '
            f'"message": {encode_basestring(f"{method} {route} {status}")}, ',
            f'"method": {encode_basestring(method)}, "route": {encode_basestring(route)}, '
            f'"status": {status}, "duration_ms": ',
        )

    def _json(self, entry: Entry) -> str:
        now, request_id, method, route, status, seconds, client, _ = entry
        stamp, millis = self._now(now, utc=True)
        before, after = self._parts(method, route, status)
        duration_ms = _milliseconds(seconds)
        identified = f'"request_id": {encode_basestring(request_id)}, ' if request_id else ""
        who = encode_basestring(client) if client is not None else "null"
        return (
            f'{{"time": "{stamp}.{millis:03d}+00:00", {before}{identified}{after}'
            f'{duration_ms}, "client": {who}}}\n'
        )

    @staticmethod
    def _text_parts(method: str, route: str, status: int) -> tuple[str, str]:
        """What comes between the time and the duration."""
        return (
            f"INFO  {method} {route} {status} method={method} route={route} "
            f"status={status} duration_ms=",
            "",
        )

    def _text(self, entry: Entry) -> str:
        now, request_id, method, route, status, seconds, client, _ = entry
        stamp, _ = self._now(now, utc=False)
        before, _ = self._parts(method, route, status)
        duration_ms = _milliseconds(seconds)
        identified = f" request_id={request_id}" if request_id else ""
        return f"{stamp} {before}{duration_ms} client={client}{identified}\n"


class StartupChatter(logging.Filter):
    """Drops uvicorn's start and stop steps, which `paced serve`'s own lines say already
    ("paced is serving <URL>"); keeps its process lines and whatever goes wrong."""

    SAID = (
        "Uvicorn running on",
        "Waiting for application startup",
        "Application startup complete",
        "Waiting for application shutdown",
        "Application shutdown complete",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not str(record.msg).startswith(self.SAID)


def resolve_format(setting: Literal["auto", "json", "text"]) -> Literal["json", "text"]:
    if setting != "auto":
        return setting
    return "text" if sys.stderr.isatty() else "json"


def logging_config(fmt: Literal["json", "text"], level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for paced and uvicorn; uvicorn's own access log is off
    (paced writes one line per request itself, with the route template and request id)."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    handler = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"paced": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "filters": {"chatter": {"()": f"{__name__}.StartupChatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "paced",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "paced": handler,
            "uvicorn": handler,
            "uvicorn.error": {"level": level, "filters": ["chatter"]},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
