"""`paced apps create | list` as SPEC §2 writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paced.core import token_format
from paced.storage.engine import create_engine, dispose
from paced.storage.unit_of_work import reading
from tests.cli.test_users import paced


@pytest.fixture
def owner(database_url: str, tmp_path: Path) -> str:
    result = paced(
        "users",
        "create",
        "--email",
        "dev@example.com",
        "--password",
        "x" * 10,
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return "dev@example.com"


def test_create_a_confidential_app_then_list_it(
    database_url: str, tmp_path: Path, owner: str
) -> None:
    def run(*args: str):  # type: ignore[no-untyped-def]
        return paced(*args, database_url=database_url, cwd=tmp_path)

    created = run(
        "apps",
        "create",
        "--owner",
        "DEV@example.com",
        "--name",
        "Zapier",
        "--redirect-uri",
        "https://zapier.example/cb",
        "--redirect-uri",
        "http://127.0.0.1/cb",
    )
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    assert list(app) == ["id", "name", "client_id", "client_secret", "redirect_uris"]
    assert app["id"].startswith("app_") and len(app["id"]) == 28
    assert app["name"] == "Zapier"
    assert app["client_id"].isalnum() and len(app["client_id"]) >= 24
    assert token_format.is_well_formed(app["client_secret"], "pt_client_")
    assert app["redirect_uris"] == ["https://zapier.example/cb", "http://127.0.0.1/cb"]

    listed = run("apps", "list", "--owner", owner, "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row == {
        "id": app["id"],
        "name": "Zapier",
        "client_id": app["client_id"],
        "redirect_uris": app["redirect_uris"],
        "created_at": row["created_at"],
    }
    assert row["created_at"].endswith("Z")
    assert app["client_secret"] not in listed.stdout

    table = run("apps", "list", "--owner", owner)
    assert table.returncode == 0
    header, line = table.stdout.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "CLIENT"]
    assert app["id"] in line and app["client_id"] in line and "confidential" in line
    assert app["client_secret"] not in table.stdout


def test_a_public_app_has_a_null_secret(database_url: str, tmp_path: Path, owner: str) -> None:
    result = paced(
        "apps",
        "create",
        "--owner",
        owner,
        "--name",
        "Phone",
        "--redirect-uri",
        "com.example.phone:/cb",
        "--public",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["client_secret"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--owner", "dev@example.com", "--redirect-uri", "http://example.com/cb"],
            "invalid redirect URI http://example.com/cb: Use https",
        ),
        (
            ["--owner", "dev@example.com", "--redirect-uri", "com.example.app:/cb"],
            "invalid redirect URI com.example.app:/cb: A private-use scheme",
        ),
        (
            ["--owner", "nobody@example.com", "--redirect-uri", "https://x.example/cb"],
            "unknown user: nobody@example.com",
        ),
    ],
    ids=[
        "http on a public host is refused",
        "a private-use scheme for a confidential app is refused",
        "an unknown owner is refused",
    ],
)
def test_errors_are_one_line_on_stderr_with_status_1(
    database_url: str, tmp_path: Path, owner: str, args: list[str], message: str
) -> None:
    result = paced("apps", "create", "--name", "X", *args, database_url=database_url, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message)


def test_every_bad_uri_is_named_on_the_one_line(
    database_url: str, tmp_path: Path, owner: str
) -> None:
    result = paced(
        "apps",
        "create",
        "--owner",
        owner,
        "--name",
        "X",
        "--redirect-uri",
        "https://a.example/#x",
        "--redirect-uri",
        "https://*.example/cb",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "https://a.example/#x: Remove the fragment" in line
    assert "https://*.example/cb: Remove the wildcard" in line
    assert "You have" not in line
    listed = paced(
        "apps", "list", "--owner", owner, "--json", database_url=database_url, cwd=tmp_path
    )
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ["apps", "create", "--owner", "dev@example.com", "--name", "X"],
        ["apps", "create", "--name", "X", "--redirect-uri", "https://x.example/cb"],
        ["apps", "list"],
        ["apps", "delete"],
    ],
    ids=[
        "create without a redirect URI",
        "create without an owner",
        "list without an owner",
        "an unknown command",
    ],
)
def test_wrong_usage_exits_2(database_url: str, tmp_path: Path, args: list[str]) -> None:
    assert paced(*args, database_url=database_url, cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("flag", [True, False], ids=["--device-flow on", "without --device-flow"])
async def test_device_flow_is_stored_only_when_asked(
    database_url: str, tmp_path: Path, owner: str, flag: bool
) -> None:
    args = ["--redirect-uri", "http://127.0.0.1/cb", "--public"]
    result = paced(
        "apps",
        "create",
        "--owner",
        owner,
        "--name",
        "CLI",
        *args,
        *(["--device-flow"] if flag else []),
        database_url=database_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert list(created) == ["id", "name", "client_id", "client_secret", "redirect_uris"]
    engine = create_engine(database_url)
    try:
        async with reading(engine) as store:
            app = await store.app_by_client_id(created["client_id"])
    finally:
        await dispose(engine)
    assert app is not None and app.device_flow is flag
