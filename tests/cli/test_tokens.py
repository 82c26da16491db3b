"""`paced tokens create | list | revoke` as docs/reference.md §2 writes them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from paced.core import token_format
from tests.cli.test_users import paced

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Run:
    """`paced ARGS…` on the test's database, with one user, ann@example.com."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return paced(*args, database_url=database_url, cwd=tmp_path)

    result = run("users", "create", "--email", "ann@example.com", "--password", "x" * 10)
    assert result.returncode == 0, result.stderr
    return run


def test_create_prints_the_spec_json(run: Run) -> None:
    result = run("tokens", "create", "--user", "ann@example.com", "--name", "backup")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    created = json.loads(result.stdout)
    assert list(created) == ["id", "name", "token", "scopes", "expires_at"]
    assert re.fullmatch(r"pat_[0-9A-Za-z]{24}", created["id"])
    assert created["name"] == "backup"
    assert token_format.is_well_formed(created["token"], "pt_secret_")
    assert created["scopes"] == ["read", "write"]  # by default, all of them
    assert created["expires_at"] is None  # no --expires-in: no expiry


async def test_a_cli_token_opens_the_api(run: Run, client: httpx.AsyncClient) -> None:
    created = json.loads(
        run(
            "tokens", "create", "--user", "ANN@example.com", "--name", "n", "--scope", "read"
        ).stdout
    )
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert response.status_code == 200 and response.json()["email"] == "ann@example.com"
    assert response.headers["x-oauth-scopes"] == "read"
    revoked = run("tokens", "revoke", created["id"])
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == ""
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_scopes_and_expiry(run: Run) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(
        "tokens",
        "create",
        "--user",
        "ann@example.com",
        "--name",
        "ci",
        "--scope",
        "write",
        "--expires-in",
        "3600",
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["scopes"] == ["write"]
    expires = datetime.strptime(created["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(seconds=3600) <= expires <= before + timedelta(seconds=3660)


def test_list_as_json_and_as_a_table_never_shows_a_secret(run: Run) -> None:
    first = json.loads(run("tokens", "create", "--user", "ann@example.com", "--name", "one").stdout)
    second = json.loads(
        run(
            "tokens", "create", "--user", "ann@example.com", "--name", "two", "--scope", "read"
        ).stdout
    )
    assert run("tokens", "revoke", first["id"]).returncode == 0

    listed = run("tokens", "list", "--user", "ann@example.com", "--json")
    assert listed.returncode == 0, listed.stderr
    tokens = json.loads(listed.stdout)
    assert {t["id"] for t in tokens} == {first["id"], second["id"]}
    for token in tokens:
        assert set(token) == {
            "id",
            "name",
            "scopes",
            "expires_at",
            "created_at",
            "last_used_at",
            "revoked_at",
        }
        assert token["created_at"].endswith("Z") and token["last_used_at"] is None
    by_id = {t["id"]: t for t in tokens}
    assert by_id[first["id"]]["revoked_at"].endswith("Z")
    assert by_id[second["id"]]["revoked_at"] is None
    assert by_id[second["id"]]["scopes"] == ["read"]

    table = run("tokens", "list", "--user", "ann@example.com")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "SCOPES"]
    assert any(first["id"] in line and "revoked" in line for line in lines)
    assert any(second["id"] in line and "active" in line for line in lines)
    for output in (listed.stdout, table.stdout):
        assert "pt_secret_" not in output


def test_a_user_without_tokens_lists_an_empty_array(run: Run) -> None:
    result = run("tokens", "list", "--user", "ann@example.com", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("tokens", "create", "--user", "nobody@example.com", "--name", "n"),
            "unknown user: nobody@example.com",
        ),
        (
            ("tokens", "create", "--user", "ann@example.com", "--name", "n", "--scope", "admin"),
            "Unknown scope: admin.",
        ),
        (("tokens", "create", "--user", "ann@example.com", "--name", ""), "name"),
        (("tokens", "list", "--user", "nobody@example.com"), "unknown user: nobody@example.com"),
        (
            ("tokens", "revoke", "pat_000000000000000000000000"),
            "unknown token: pat_000000000000000000000000",
        ),
    ],
    ids=[
        "an unknown user",
        "an unknown scope",
        "an empty name",
        "a list of nobody",
        "an unknown id",
    ],
)
def test_errors_are_one_line_and_exit_1(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("tokens", "create", "--user", "ann@example.com"),
        ("tokens", "create", "--name", "n"),
        ("tokens", "create", "--user", "ann@example.com", "--name", "n", "--expires-in", "0"),
        ("tokens", "create", "--user", "ann@example.com", "--name", "n", "--expires-in", "soon"),
        ("tokens", "list"),
        ("tokens", "revoke"),
    ],
    ids=[
        "create without a name",
        "create without a user",
        "an expiry of 0 seconds",
        "an expiry that is no number",
        "list without a user",
        "revoke without an id",
    ],
)
def test_wrong_usage_exits_2(run: Run, args: tuple[str, ...]) -> None:
    assert run(*args).returncode == 2
