"""`paced users`: create, disable, enable, unlock, reset-password."""

from __future__ import annotations

import json
import os
import re
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


def make_user(database_url: str, tmp_path: Path, email: str = "ann@example.com") -> None:
    made = paced(
        "users",
        "create",
        "--email",
        email,
        "--password",
        PASSWORD,
        database_url=database_url,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr


PASSWORD = "correct horse battery"


def test_disable_and_enable_print_the_account_and_an_unknown_email_exits_1(
    database_url: str, tmp_path: Path
) -> None:
    make_user(database_url, tmp_path)
    for command, disabled in (("disable", True), ("enable", False)):
        result = paced("users", command, "ANN@example.com", database_url=database_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        assert shown["email"] == "ann@example.com" and shown["disabled"] is disabled
        assert shown["id"].startswith("user_")
    unknown = paced("users", "disable", "bob@example.com", database_url=database_url, cwd=tmp_path)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == "no account has the email bob@example.com"
    assert paced("users", "disable", database_url=database_url, cwd=tmp_path).returncode == 2


def test_unlock_prints_when(database_url: str, tmp_path: Path) -> None:
    make_user(database_url, tmp_path)
    result = paced("users", "unlock", "ann@example.com", database_url=database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unlocked_at"].endswith("Z")


def test_reset_password_prints_a_one_time_link_of_the_base_url(
    database_url: str, tmp_path: Path
) -> None:
    make_user(database_url, tmp_path)
    result = paced(
        "users",
        "reset-password",
        "ann@example.com",
        database_url=database_url,
        cwd=tmp_path,
        extra={"PACED_BASE_URL": "https://auth.paced.example"},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    printed = json.loads(result.stdout)
    assert list(printed) == ["reset_url"]
    assert re.fullmatch(
        r"https://auth\.paced\.example/password/reset/[\w-]{43}", printed["reset_url"]
    )
    unknown = paced(
        "users", "reset-password", "bob@example.com", database_url=database_url, cwd=tmp_path
    )
    assert unknown.returncode == 1 and unknown.stdout == ""
