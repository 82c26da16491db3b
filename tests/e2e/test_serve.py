"""`paced serve` as an operator starts it, and a person signing up over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import paced_serve
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e


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
