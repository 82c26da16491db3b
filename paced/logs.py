"""Log lines for operators: one JSON object a line, or plain text for a person at a terminal.

Every record may carry `extra={"fields": {...}}`; both formats show those fields, and the
request id of the request being served (`REQUEST_ID`, set by the web layer). Messages and
fields hold no secret: routes are templates, never raw URLs or query strings.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

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
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
