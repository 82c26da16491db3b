"""`paced apps create | list | show | rotate-secret | delete`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from paced.core import token_format
from paced.core.errors import InvalidClient
from paced.core.records import App
from paced.storage.database import open_database
from tests.cli.conftest import Cli
from tests.conftest import Clock
from tests.web.test_applications import auth


@pytest.fixture
def run(cli: Cli) -> Cli:
    """`cli`, with one user, dev@example.com."""
    result = cli("users", "create", "--email", "dev@example.com", "--password", "x" * 10)
    assert result.exit_code == 0, result.stderr
    return cli


def create(run: Cli, *extra: str) -> dict[str, Any]:
    result = run(
        "apps", "create", "--owner", "DEV@example.com", "--name", "Zapier",
        "--redirect-uri", "https://zapier.example/cb", "--redirect-uri", "http://127.0.0.1/cb",
        *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    created: dict[str, Any] = json.loads(result.stdout)
    return created


def test_create_a_confidential_app_then_list_it(run: Cli) -> None:
    app = create(run)
    assert list(app) == ["id", "name", "client_id", "client_secret", "redirect_uris"]
    assert app["id"].startswith("app_") and len(app["id"]) == 28
    assert app["name"] == "Zapier"
    assert app["client_id"].isalnum() and len(app["client_id"]) >= 24
    assert token_format.is_well_formed(app["client_secret"], "pt_client_")
    assert app["redirect_uris"] == ["https://zapier.example/cb", "http://127.0.0.1/cb"]

    listed = run("apps", "list", "--owner", "dev@example.com", "--json")
    assert listed.exit_code == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    [secret] = row["client_secrets"]
    assert row == {
        "id": app["id"],
        "name": "Zapier",
        "client_id": app["client_id"],
        "redirect_uris": app["redirect_uris"],
        "public": False,
        "client_secrets": [
            {
                "id": secret["id"],
                "hint": token_format.hint(app["client_secret"]),
                "created_at": row["created_at"],
                "last_used_at": None,
            }
        ],
        "created_at": row["created_at"],
    }
    assert row["created_at"].endswith("Z")
    assert app["client_secret"] not in listed.stdout

    table = run("apps", "list", "--owner", "dev@example.com")
    assert table.exit_code == 0
    header, line = table.stdout.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "CLIENT"]
    assert app["id"] in line and app["client_id"] in line and "confidential" in line
    assert token_format.hint(app["client_secret"]) in line
    assert app["client_secret"] not in table.stdout


def test_a_public_app_has_a_null_secret(run: Cli) -> None:
    result = run(
        "apps", "create", "--owner", "dev@example.com", "--name", "Phone",
        "--redirect-uri", "com.example.phone:/cb", "--public",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    app = json.loads(result.stdout)
    assert app["client_secret"] is None
    rotated = run("apps", "rotate-secret", app["id"])
    assert rotated.exit_code == 1
    assert rotated.stderr == "A public application has no client secret: it uses PKCE instead.\n"


def test_show_names_the_owner_and_the_secrets_by_their_hints(run: Cli) -> None:
    app = create(run)
    shown = run("apps", "show", app["id"], "--json")
    assert shown.exit_code == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["owner"] == "dev@example.com" and found["client_id"] == app["client_id"]
    assert [s["hint"] for s in found["client_secrets"]] == [token_format.hint(app["client_secret"])]
    text = run("apps", "show", app["id"])
    assert text.exit_code == 0
    lines = [line.split(None, 1) for line in text.stdout.splitlines()]
    assert ["owner", "dev@example.com"] in lines and ["id", app["id"]] in lines
    hint = token_format.hint(app["client_secret"])
    assert any(
        line.startswith(f"client secret  {hint} (created ") for line in text.stdout.splitlines()
    )
    assert app["client_secret"] not in shown.stdout + text.stdout


async def test_rotating_keeps_the_newest_secret_working_and_deleting_ends_every_grant(
    run: Cli, client: httpx.AsyncClient, clock: Clock
) -> None:
    app = await asyncio.to_thread(create, run)
    first = app["client_secret"]

    async def paced(*args: str) -> Any:
        return await asyncio.to_thread(run, *args)  # a loop of its own, beside this test's

    rotated = await paced("apps", "rotate-secret", app["id"])
    assert rotated.exit_code == 0, rotated.stderr
    second = json.loads(rotated.stdout)
    assert list(second) == ["id", "client_secret", "hint"]
    assert second["id"] == app["id"] and second["hint"] == token_format.hint(
        second["client_secret"]
    )
    assert rotated.stderr == ""
    # Two-secret rotation: both work until the next rotation, which drops the oldest.
    assert await auth(client, app["client_id"], first, clock)
    assert await auth(client, app["client_id"], second["client_secret"], clock)
    third = await paced("apps", "rotate-secret", app["id"])
    assert third.exit_code == 0, third.stderr
    assert third.stderr == f"deleted the oldest client secret, {token_format.hint(first)}\n"
    with pytest.raises(InvalidClient):
        await auth(client, app["client_id"], first, clock)
    assert await auth(client, app["client_id"], second["client_secret"], clock)
    shown = json.loads((await paced("apps", "show", app["id"], "--json")).stdout)
    assert [s["hint"] for s in shown["client_secrets"]] == [
        second["hint"],
        json.loads(third.stdout)["hint"],
    ]

    deleted = await paced("apps", "delete", app["id"])
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.stderr == f"deleted {app['id']} (Zapier): every grant of it has ended\n"
    with pytest.raises(InvalidClient):
        await auth(client, app["client_id"], second["client_secret"], clock)
    again = await paced("apps", "delete", app["id"])
    assert (again.exit_code, again.stderr) == (1, f"unknown application: {app['id']}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["apps", "create", "--name", "X", "--owner", "dev@example.com", "--redirect-uri", "http://example.com/cb"],
            "invalid redirect URI http://example.com/cb: Use https",
        ),
        (
            ["apps", "create", "--name", "X", "--owner", "dev@example.com", "--redirect-uri", "com.example.app:/cb"],
            "invalid redirect URI com.example.app:/cb: A private-use scheme",
        ),
        (
            ["apps", "create", "--name", "X", "--owner", "nobody@example.com", "--redirect-uri", "https://x.example/cb"],
            "unknown user: nobody@example.com",
        ),
        (["apps", "show", "app_000000000000000000000000"], "unknown application: app_000000000000000000000000"),
        (["apps", "show", "Zapier"], "that is not an id of the form app_…"),
        (["apps", "rotate-secret", "pt_client_" + "a" * 36], "that looks like a secret, not an id"),
        (["apps", "delete", "app_000000000000000000000000"], "unknown application: app_000000000000000000000000"),
    ],
    ids=[
        "http on a public host is refused",
        "a private-use scheme for a confidential app is refused",
        "an unknown owner is refused",
        "an unknown app to show",
        "a name for an id",
        "a secret for an id, never echoed",
        "an unknown app to delete",
    ],
)  # fmt: skip
def test_errors_are_one_line_on_stderr_with_status_1(
    run: Cli, args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message)
    assert "a" * 36 not in result.stderr


def test_every_bad_uri_is_named_on_the_one_line(run: Cli) -> None:
    result = run(
        "apps", "create", "--owner", "dev@example.com", "--name", "X",
        "--redirect-uri", "https://a.example/#x", "--redirect-uri", "https://*.example/cb",
    )  # fmt: skip
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "https://a.example/#x: Remove the fragment" in line
    assert "https://*.example/cb: Remove the wildcard" in line
    assert "You have" not in line
    listed = run("apps", "list", "--owner", "dev@example.com", "--json")
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ["apps", "create", "--owner", "dev@example.com", "--name", "X"],
        ["apps", "create", "--name", "X", "--redirect-uri", "https://x.example/cb"],
        ["apps", "list"],
        ["apps", "show"],
        ["apps", "remove"],
    ],
    ids=[
        "create without a redirect URI",
        "create without an owner",
        "list without an owner",
        "show without an id",
        "an unknown command",
    ],
)
def test_wrong_usage_exits_2(run: Cli, args: list[str]) -> None:
    assert run(*args).exit_code == 2


@pytest.mark.parametrize("flag", [True, False], ids=["--device-flow on", "without --device-flow"])
def test_device_flow_is_stored_only_when_asked(run: Cli, database_url: str, flag: bool) -> None:
    result = run(
        "apps",
        "create",
        "--owner",
        "dev@example.com",
        "--name",
        "CLI",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--public",
        *(["--device-flow"] if flag else []),
    )
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.stdout)
    assert list(created) == ["id", "name", "client_id", "client_secret", "redirect_uris"]

    async def stored() -> App | None:
        engine = open_database(database_url)
        try:
            async with engine.reading() as store:
                return await store.app_by_client_id(created["client_id"])
        finally:
            await engine.close()

    app = asyncio.run(stored())
    assert app is not None and app.device_flow is flag
