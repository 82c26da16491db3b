"""`paced serve` as an operator starts it, and a person signing up over real HTTP."""

from __future__ import annotations

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
