"""`paced tokens create | list | revoke`."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from paced.core import token_format
from tests.cli.conftest import Cli


@pytest.fixture
def run(cli: Cli) -> Cli:
    """`cli`, with one user, ann@example.com."""
    result = cli("users", "create", "--email", "ann@example.com", "--password", "x" * 10)
    assert result.exit_code == 0, result.stderr
    return cli


def parse(moment: str) -> datetime:
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_create_prints_one_json_object_with_the_secret_and_its_hint(run: Cli) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run("tokens", "create", "--user", "ann@example.com", "--name", "backup")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    created = json.loads(result.stdout)
    assert list(created) == ["id", "name", "token", "hint", "scopes", "expires_at"]
    assert re.fullmatch(r"pat_[0-9A-Za-z]{24}", created["id"])
    assert created["name"] == "backup"
    assert token_format.is_well_formed(created["token"], "pt_secret_")
    assert created["hint"] == token_format.hint(created["token"])
    assert created["hint"] == "pt_secret_\u2026" + created["token"][-4:]
    assert created["scopes"] == ["read", "write"]  # by default, all of them
    # By default it expires in 30 days, as on the page.
    expires = parse(created["expires_at"])
    assert before + timedelta(days=30) <= expires <= before + timedelta(days=30, minutes=1)


def test_no_expiration_is_a_deliberate_choice(run: Cli) -> None:
    result = run("tokens", "create", "--user", "ann@example.com", "--name", "n", "--no-expiration")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["expires_at"] is None
    both = run(
        "tokens", "create", "--user", "ann@example.com", "--name", "n",
        "--no-expiration", "--expires-in", "60",
    )  # fmt: skip
    assert both.exit_code == 2
    assert "give --expires-in or --no-expiration, not both" in both.stderr


async def test_a_cli_token_opens_the_api(run: Cli, client: httpx.AsyncClient) -> None:
    # The command runs an event loop of its own: in a thread, beside this test's.
    created_run = await asyncio.to_thread(
        run, "tokens", "create", "--user", "ANN@example.com", "--name", "n", "--scope", "read"
    )
    created = json.loads(created_run.stdout)
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert response.status_code == 200 and response.json()["email"] == "ann@example.com"
    assert response.headers["x-oauth-scopes"] == "read"
    revoked = await asyncio.to_thread(run, "tokens", "revoke", created["id"])
    assert revoked.exit_code == 0, revoked.stderr
    assert revoked.stdout == ""
    assert revoked.stderr == f"revoked {created['id']} (n, {created['hint']})\n"
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_scopes_and_expiry(run: Cli) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(
        "tokens", "create", "--user", "ann@example.com", "--name", "ci",
        "--scope", "write", "--expires-in", "3600",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["scopes"] == ["write"]
    expires = parse(created["expires_at"])
    assert before + timedelta(seconds=3600) <= expires <= before + timedelta(seconds=3660)


def test_list_as_json_and_as_a_table_shows_hints_never_a_secret(run: Cli) -> None:
    first = json.loads(run("tokens", "create", "--user", "ann@example.com", "--name", "one").stdout)
    second = json.loads(
        run(
            "tokens", "create", "--user", "ann@example.com", "--name", "two", "--scope", "read"
        ).stdout
    )
    assert run("tokens", "revoke", first["id"]).exit_code == 0

    listed = run("tokens", "list", "--user", "ann@example.com", "--json")
    assert listed.exit_code == 0, listed.stderr
    tokens = json.loads(listed.stdout)
    assert [t["id"] for t in tokens] == [second["id"], first["id"]]  # newest first
    for token in tokens:
        assert list(token) == [
            "id", "name", "hint", "scopes", "expires_at", "created_at", "last_used_at", "revoked_at",
        ]  # fmt: skip
        assert token["created_at"].endswith("Z") and token["last_used_at"] is None
    by_id = {t["id"]: t for t in tokens}
    assert by_id[first["id"]]["revoked_at"].endswith("Z")
    assert by_id[second["id"]]["revoked_at"] is None
    assert by_id[second["id"]]["scopes"] == ["read"]
    assert by_id[first["id"]]["hint"] == first["hint"]

    table = run("tokens", "list", "--user", "ann@example.com")
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "HINT", "SCOPES"]
    assert any(
        first["id"] in line and first["hint"] in line and "revoked" in line for line in lines
    )
    assert any(second["id"] in line and "active" in line for line in lines)
    for output in (listed.stdout, table.stdout):
        assert first["token"] not in output and second["token"] not in output
        assert not re.search(r"pt_secret_[0-9A-Za-z]", output)


def test_a_user_without_tokens_lists_an_empty_array(run: Cli) -> None:
    result = run("tokens", "list", "--user", "ann@example.com", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_revoking_twice_says_it_was_already_done(run: Cli) -> None:
    created = json.loads(run("tokens", "create", "--user", "ann@example.com", "--name", "n").stdout)
    assert run("tokens", "revoke", created["id"]).exit_code == 0
    again = run("tokens", "revoke", created["id"])
    assert again.exit_code == 0
    assert again.stdout == ""
    assert re.fullmatch(
        rf"{created['id']} \(n, pt_secret_…\w{{4}}\) was already revoked, at \S+Z\n", again.stderr
    )


def test_a_secret_given_instead_of_an_id_is_never_echoed(run: Cli) -> None:
    created = json.loads(run("tokens", "create", "--user", "ann@example.com", "--name", "n").stdout)
    for pasted in (created["token"], " " + created["token"], "pt_oauth_" + created["token"][10:]):
        result = run("tokens", "revoke", pasted)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert pasted.strip() not in result.stderr and created["token"][10:] not in result.stderr
        assert result.stderr.startswith("that looks like a secret, not an id")
        assert "pat_…" in result.stderr
    listed = json.loads(run("tokens", "list", "--user", "ann@example.com", "--json").stdout)
    assert listed[0]["revoked_at"] is None  # nothing was revoked


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
        (("tokens", "revoke", "backup"), "that is not an id of the form pat_…"),
    ],
    ids=[
        "an unknown user",
        "an unknown scope",
        "an empty name",
        "a list of nobody",
        "an unknown id",
        "a name for an id",
    ],
)
def test_errors_are_one_line_and_exit_1(run: Cli, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
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
def test_wrong_usage_exits_2(run: Cli, args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2
