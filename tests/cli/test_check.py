"""`paced check`: production readiness, one line per check, exit 1 when one fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from paced.storage.migrate import upgrade
from tests.cli.conftest import Cli, invoke
from tests.databases import run_sync

KEY = "k" * 40
READY = {
    "PACED_BASE_URL": "https://auth.example",
    "PACED_SECRET_KEY": KEY,
    # The production cost: the tests' cheap hashing is itself a failed check.
    "PACED_PASSWORD_TIME_COST": "3",
    "PACED_PASSWORD_MEMORY_KIB": "65536",
    "PACED_PASSWORD_PARALLELISM": "4",
}


def lines(output: str) -> dict[str, tuple[str, str]]:
    """check name -> (ok or FAIL, message)."""
    found = {}
    for line in output.splitlines():
        status, rest = line.split(None, 1)
        name, message = rest.split("  ", 1)
        found[name.strip()] = (status, message.strip())
    return found


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    assert cli("db", "upgrade").exit_code == 0
    return cli


def test_a_ready_configuration_passes_every_check(migrated: Cli, database_url: str) -> None:
    result = migrated("check", env=READY)
    assert result.exit_code == 0, result.stdout
    found = lines(result.stdout)
    assert {status for status, _ in found.values()} == {"ok"}
    assert set(found) >= {
        "configuration", "base URL", "secret key", "database", "schema", "rate limits",
        "password hashing",
    }  # fmt: skip
    assert found["base URL"][1] == "https://auth.example"
    assert KEY not in result.stdout  # a secret is never printed


@pytest.mark.parametrize(
    ("env", "args", "check", "message"),
    [
        ({"PACED_BASE_URL": ""}, (), "base URL", "PACED_BASE_URL is not set"),
        ({"PACED_BASE_URL": "http://auth.example"}, (), "base URL", "http://auth.example is not https"),
        ({"PACED_SECRET_KEY": ""}, ("--nodes", "2"), "secret key", "PACED_SECRET_KEY is not set"),
        ({"PACED_RATE_LIMIT_LOGIN_PER_IP": "off"}, ("--workers", "4"), "rate limits", "4 processes let up to 4 times"),
        ({"PACED_PASSWORD_TIME_COST": "1"}, (), "password hashing", "PACED_PASSWORD_TIME_COST=1"),
    ],
    ids=[
        "no base URL",
        "a base URL over http",
        "no secret key on several nodes",
        "several workers without Redis while a limit is on",
        "cheap password hashing",
    ],
)  # fmt: skip
def test_each_problem_fails_its_check_and_exits_1(
    migrated: Cli, env: dict[str, str], args: tuple[str, ...], check: str, message: str
) -> None:
    result = migrated("check", *args, env={**READY, **env})
    assert result.exit_code == 1
    found = lines(result.stdout)
    assert found[check][0] == "FAIL" and message in found[check][1], found[check]


def test_several_processes_need_postgresql_and_redis(migrated: Cli, database_url: str) -> None:
    env = {**READY, "PACED_REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = migrated("check", "--workers", "2", "--nodes", "2", env=env)
    found = lines(result.stdout)
    assert found["redis"] == ("ok", "reachable at 127.0.0.1")
    assert found["rate limits"] == ("ok", "counted in Redis, shared by every process")
    if database_url.startswith("sqlite"):
        assert result.exit_code == 1
        assert found["database"] == (
            "FAIL",
            "SQLite with 2 nodes: a database file cannot be shared between machines;"
            " use PostgreSQL",
        )
        workers = lines(migrated("check", "--workers", "2", env=env).stdout)
        assert workers["database"] == (
            "FAIL",
            "SQLite with 2 workers: their writes queue on one file lock;"
            " use PostgreSQL, or one worker",
        )
    else:
        assert result.exit_code == 0, result.stdout
        assert found["database"] == ("ok", "PostgreSQL")


def test_an_unreachable_redis_fails(migrated: Cli) -> None:
    result = migrated("check", env={**READY, "PACED_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 1
    assert lines(result.stdout)["redis"][0] == "FAIL"


def test_a_missing_database_fails_without_being_created(tmp_path: Path) -> None:
    missing = tmp_path / "paced.db"
    result = invoke(f"sqlite:///{missing}", "check", env=READY)
    assert result.exit_code == 1
    assert lines(result.stdout)["schema"] == (
        "FAIL",
        f"no database at {missing}: check PACED_DATABASE_URL (`paced db upgrade` creates one)",
    )
    assert not missing.exists()


def test_a_schema_left_behind_fails(tmp_path: Path) -> None:

    url = f"sqlite:///{tmp_path / 'old.db'}"

    run_sync(upgrade(url, "0005"))
    found = lines(invoke(url, "check", env=READY).stdout)
    assert found["schema"][0] == "FAIL" and "run `paced db upgrade`" in found["schema"][1]


def test_an_invalid_configuration_is_one_failed_check() -> None:
    result = invoke("sqlite:///unused.db", "check", env={**READY, "PACED_SECRET_KEY": "short"})
    assert result.exit_code == 1
    [(name, (status, message))] = lines(result.stdout).items()
    assert (name, status) == ("configuration", "FAIL")
    assert message.startswith("PACED_SECRET_KEY must be at least 32 bytes")
