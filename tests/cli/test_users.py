"""`paced users`: create, list, disable, enable, unlock, reset-password."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Cli, invoke


def test_users_create_prints_the_json_object(cli: Cli) -> None:
    result = cli(
        "users", "create", "--email", "cli@example.com", "--password", "x" * 10, "--name", "Cli"
    )
    assert result.exit_code == 0, result.stderr
    user = json.loads(result.stdout)
    assert list(user) == ["id", "email", "name", "time_zone", "created_at"]
    assert user["id"].startswith("user_") and len(user["id"]) == 29
    assert user["email"] == "cli@example.com" and user["name"] == "Cli"
    assert user["time_zone"] == "UTC" and user["created_at"].endswith("Z")
    assert "x" * 10 not in result.stdout + result.stderr

    again = cli("users", "create", "--email", "CLI@example.com", "--password", "y" * 10)
    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr.strip() == "An account with this email already exists."


def test_password_from_the_environment_or_a_prompt(cli: Cli) -> None:
    from_env = cli(
        "users",
        "create",
        "--email",
        "env@example.com",
        env={"PACED_PASSWORD": "from-the-environment"},
    )
    assert from_env.exit_code == 0, from_env.stderr
    prompted = cli(
        "users", "create", "--email", "ask@example.com", stdin="typed-twice\ntyped-twice\n"
    )
    assert prompted.exit_code == 0, prompted.stderr
    assert "typed-twice" not in prompted.stdout


def test_bad_input_exits_1_with_one_line(cli: Cli) -> None:
    result = cli("users", "create", "--email", "bad", "--password", "short")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_usage_exits_2(cli: Cli) -> None:
    assert cli("users", "create").exit_code == 2
    assert cli("users", "list", "--all").exit_code == 2


def test_users_list_as_a_table_and_as_json(cli: Cli) -> None:
    assert json.loads(cli("users", "list", "--json").stdout) == []
    for email in ("ann@example.com", "bob@example.com"):
        assert cli("users", "create", "--email", email, "--password", "x" * 10).exit_code == 0
    listed = cli("users", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    users = json.loads(listed.stdout)
    assert [u["email"] for u in users] == ["ann@example.com", "bob@example.com"]  # oldest first
    assert list(users[0]) == ["id", "email", "name", "time_zone", "created_at"]
    table = cli("users", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "EMAIL", "NAME", "TIME", "ZONE", "CREATED"]
    assert "ann@example.com" in table[1] and "bob@example.com" in table[2]


def test_reading_commands_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "paced.db"
    for args in (
        ("users", "list"),
        ("users", "list", "--json"),
        ("tokens", "list", "--user", "ann@example.com"),
        ("apps", "list", "--owner", "ann@example.com"),
        ("apps", "show", "app_000000000000000000000000"),
        ("audit",),
    ):
        result = invoke(f"sqlite:///{missing}", *args)
        assert result.exit_code == 1, args
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith(f"no database at {missing}"), line
    assert not missing.parent.exists()


PASSWORD = "correct horse battery"


def make_user(cli: Cli, email: str = "ann@example.com") -> None:
    made = cli("users", "create", "--email", email, "--password", PASSWORD)
    assert made.exit_code == 0, made.stderr


def test_disable_and_enable_print_the_account_and_an_unknown_email_exits_1(cli: Cli) -> None:
    make_user(cli)
    for command, disabled in (("disable", True), ("enable", False)):
        result = cli("users", command, "ANN@example.com")
        assert result.exit_code == 0, result.stderr
        shown = json.loads(result.stdout)
        assert shown["email"] == "ann@example.com" and shown["disabled"] is disabled
        assert shown["id"].startswith("user_")
    unknown = cli("users", "disable", "bob@example.com")
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == "no account has the email bob@example.com"
    assert cli("users", "disable").exit_code == 2


def test_unlock_prints_when(cli: Cli) -> None:
    make_user(cli)
    result = cli("users", "unlock", "ann@example.com")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["unlocked_at"].endswith("Z")


def test_reset_password_prints_a_one_time_link_of_the_base_url(cli: Cli) -> None:
    make_user(cli)
    result = cli(
        "users",
        "reset-password",
        "ann@example.com",
        env={"PACED_BASE_URL": "https://auth.paced.example"},
    )
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    printed = json.loads(result.stdout)
    assert list(printed) == ["reset_url"]
    assert re.fullmatch(
        r"https://auth\.paced\.example/password/reset/[\w-]{43}", printed["reset_url"]
    )
    unknown = cli("users", "reset-password", "bob@example.com")
    assert unknown.exit_code == 1 and unknown.stdout == ""
