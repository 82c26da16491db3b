"""`paced serve` as an operator starts it, and a person signing up over real HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import paced_serve
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e

# `12:00:00 INFO  message key=value …` (paced.logs.TextFormatter)
TEXT_LINE = re.compile(r"\d\d:\d\d:\d\d (DEBUG|INFO |WARNING|ERROR|CRITICAL) ")


def test_serve_migrates_an_empty_database_and_signs_up_over_http(
    database_url: str, tmp_path: Path
) -> None:
    fresh = (
        database_url if not database_url.startswith("sqlite") else f"sqlite:///{tmp_path}/new.db"
    )
    with paced_serve(fresh, tmp_path) as base, httpx.Client(base_url=base) as browser:
        page = browser.get("/signup")
        assert page.status_code == 200
        assert '<form method="post" action="/signup"' in page.text
        response = browser.post(
            "/signup",
            data={
                "csrf_token": csrf_token(page.text),
                "email": "e2e@example.com",
                "password": "correct horse battery",
                "name": "E2E",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/settings/developer"
        assert browser.get("/readyz").json() == {"status": "ok"}
    if fresh.startswith("sqlite"):
        key = tmp_path / "new.db.secret-key"
        assert key.exists() and oct(key.stat().st_mode)[-3:] == "600"
        # Audit finding 9a: the database holds password hashes.
        assert oct((tmp_path / "new.db").stat().st_mode)[-3:] == "600"


def test_serve_refuses_postgresql_without_a_secret_key(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "paced", "serve", "--port", "1"],
        env={"PACED_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PATH": "/usr/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "PACED_SECRET_KEY must be set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _serve_fails(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paced", "serve", "--port", "1"],
        env={"PATH": "/usr/bin", **environment},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )


# Audit finding 6: a guessable key would let anyone forge cookies and CSRF tokens.
def test_serve_refuses_a_short_secret_key_in_one_line(tmp_path: Path) -> None:
    result = _serve_fails(tmp_path, PACED_SECRET_KEY="a")
    assert result.returncode != 0
    assert "PACED_SECRET_KEY" in result.stderr and "32 bytes" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "paced.db").exists()


def test_serve_refuses_a_short_key_file_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "paced.db.secret-key").write_text("a\n")
    result = _serve_fails(tmp_path)
    assert result.returncode != 0
    assert "paced.db.secret-key" in result.stderr and "32 bytes" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def _output(node_log: Path) -> list[str]:
    return [line for line in node_log.read_text().splitlines() if line.strip()]


def test_serve_logs_json_throughout_when_told_to(database_url: str, tmp_path: Path) -> None:
    from tests.e2e.server import paced_node

    with paced_node(database_url, tmp_path, env={"PACED_LOG_FORMAT": "json"}) as node:
        httpx.get(f"{node.base}/healthz")
    lines = _output(node.log)
    records = [json.loads(line) for line in lines]  # every line, or this fails
    messages = [r["message"] for r in records]
    assert "database is up to date" in messages
    (serving,) = [r for r in records if r["message"].startswith("paced is serving")]
    assert serving["url"] == node.base
    assert not any("Uvicorn running" in m for m in messages)  # said once, by paced


def test_serve_logs_text_throughout_when_told_to(database_url: str, tmp_path: Path) -> None:
    from tests.e2e.server import paced_node

    with paced_node(database_url, tmp_path, env={"PACED_LOG_FORMAT": "text"}) as node:
        httpx.get(f"{node.base}/healthz")
    lines = _output(node.log)
    assert all(TEXT_LINE.match(line) for line in lines), lines
    assert any(
        line.endswith(f"INFO  paced is serving {node.base} database=" + line.split("database=")[-1])
        for line in lines
    )
    assert not any(line.lstrip().startswith("{") for line in lines)
    assert len(lines) <= 8, lines  # a few lines, not a wall


def test_a_migration_failure_is_one_log_record(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paced", "serve", "--port", "1"],
        env={
            "PATH": "/usr/bin",
            "PACED_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "PACED_SECRET_KEY": "a-secret-key-long-enough-for-paced-to-take",
            "PACED_LOG_FORMAT": "json",
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    (record,) = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert record["level"] == "error"
    assert record["message"].startswith("the database could not be migrated:")
