from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from paced.logs import (
    REQUEST_ID,
    JsonFormatter,
    StartupChatter,
    TextFormatter,
    logging_config,
    resolve_format,
)


def record(message: str = "GET %s %d", *args: object, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("paced.access", logging.INFO, __file__, 1, message, args, None)
    if fields:
        made.fields = fields
    return made


@pytest.fixture
def request_id() -> Iterator[str]:
    token = REQUEST_ID.set("req-1")
    yield "req-1"
    REQUEST_ID.reset(token)


def test_a_json_line_holds_the_message_the_fields_and_the_request_id(request_id: str) -> None:
    line = JsonFormatter().format(record("GET %s %d", "/api/v1/me", 200, route="/api/v1/me"))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": json.loads(line)["time"],
        "level": "info",
        "logger": "paced.access",
        "message": "GET /api/v1/me 200",
        "request_id": "req-1",
        "route": "/api/v1/me",
    }
    assert json.loads(line)["time"].endswith("+00:00")


def test_a_json_line_keeps_an_exception_on_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        made = logging.LogRecord(
            "paced.web", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(made)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]
    assert "request_id" not in json.loads(line)


def test_a_text_line_reads_as_words_then_fields(request_id: str) -> None:
    line = TextFormatter().format(record("GET %s %d", "/healthz", 200, status=200))
    assert line.endswith("INFO  GET /healthz 200 status=200 request_id=req-1")


@pytest.mark.parametrize(
    ("setting", "terminal", "chosen"),
    [
        ("auto", True, "text"),
        ("auto", False, "json"),
        ("json", True, "json"),
        ("text", False, "text"),
    ],
    ids=[
        "auto is text at a terminal",
        "auto is json otherwise",
        "json is json even at a terminal",
        "text is text even in a pipe",
    ],
)
def test_the_format_follows_the_setting_and_the_terminal(
    monkeypatch: pytest.MonkeyPatch, setting: str, terminal: bool, chosen: str
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert resolve_format(setting) == chosen  # type: ignore[arg-type]


def test_uvicorns_access_log_is_silenced_and_paced_logs_through_one_handler() -> None:
    config = logging_config("json")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert config["loggers"]["paced"]["handlers"] == ["stderr"]
    assert config["formatters"]["paced"]["()"] == "paced.logs.JsonFormatter"
    assert logging_config("text")["formatters"]["paced"]["()"] == "paced.logs.TextFormatter"


@pytest.mark.parametrize(
    ("message", "level", "kept"),
    [
        ("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", logging.INFO, False),
        ("Waiting for application startup.", logging.INFO, False),
        ("Application startup complete.", logging.INFO, False),
        ("Started server process [%d]", logging.INFO, True),
        ("Shutting down", logging.INFO, True),
        ("Application startup failed. Exiting.", logging.ERROR, True),
    ],
    ids=[
        "the URL uvicorn binds, which paced's own line says",
        "a start-up step",
        "the end of start-up",
        "the process line",
        "the stop",
        "a failure",
    ],
)
def test_uvicorns_start_up_chatter_is_dropped(message: str, level: int, kept: bool) -> None:
    chatter = StartupChatter()
    made = logging.LogRecord("uvicorn.error", level, __file__, 1, message, None, None)
    assert chatter.filter(made) is kept
    assert logging_config("json")["loggers"]["uvicorn.error"]["filters"] == ["chatter"]
