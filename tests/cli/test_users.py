"""`paced users create` as docs/reference.md §2 writes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import CHEAP_HASHING_ENV


def paced(
    *args: str,
    database_url: str,
    cwd: Path,
    extra: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
    env.update({"PACED_DATABASE_URL": database_url, **CHEAP_HASHING_ENV, **(extra or {})})
    return subprocess.run(
        [sys.executable, "-m", "paced", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_users_create_prints_the_spec_json(database_url: str, tmp_path: Path) -> None:
    result = paced(
        "users",
        "create",
        "--email",
        "cli@example.com",
        "--password",
        "x" * 10,
        "--name",
        "Cli",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    user = json.loads(result.stdout)
    assert set(user) == {"id", "email", "name", "time_zone", "created_at"}
    assert user["id"].startswith("user_") and len(user["id"]) == 29
    assert user["email"] == "cli@example.com" and user["name"] == "Cli"
    assert user["time_zone"] == "UTC" and user["created_at"].endswith("Z")
    assert "x" * 10 not in result.stdout + result.stderr

    again = paced(
        "users",
        "create",
        "--email",
        "CLI@example.com",
        "--password",
        "y" * 10,
        database_url=database_url,
        cwd=tmp_path,
    )
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.strip() == "An account with this email already exists."


def test_password_from_the_environment(database_url: str, tmp_path: Path) -> None:
    result = paced(
        "users",
        "create",
        "--email",
        "env@example.com",
        database_url=database_url,
        cwd=tmp_path,
        extra={"PACED_PASSWORD": "from-the-environment"},
    )
    assert result.returncode == 0, result.stderr


def test_bad_input_exits_1_with_one_line(database_url: str, tmp_path: Path) -> None:
    result = paced(
        "users",
        "create",
        "--email",
        "bad",
        "--password",
        "short",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_usage_exits_2(database_url: str, tmp_path: Path) -> None:
    result = paced("users", "create", database_url=database_url, cwd=tmp_path)
    assert result.returncode == 2
