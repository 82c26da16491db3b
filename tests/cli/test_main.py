"""The console script itself: its version, its help, and the two things only a real
process shows (the entry point, a reader that closes the pipe)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from paced.cli.main import app, package_version
from paced.core import security_log
from paced.core.security_log import COMMAND_LINE
from paced.storage.database import open_database
from tests.cli.conftest import Cli
from tests.cli.script import SCRIPT, environment, paced
from tests.databases import run_sync


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"paced {package_version()}\n"
    assert re.fullmatch(r"paced \d+\.\d+\.\d+\S*\n", result.stdout)


def commands() -> list[list[str]]:
    """Every command and group, as words after `paced`."""
    found: list[list[str]] = [[]]
    for group in app.registered_groups:
        assert group.name and group.typer_instance
        found.append([group.name])
        found += [[group.name, c.name or ""] for c in group.typer_instance.registered_commands]
    found += [[c.name or ""] for c in app.registered_commands]
    return found


@pytest.mark.parametrize("words", commands(), ids=lambda words: " ".join(["paced", *words]))
def test_help_reads_as_words(cli: Cli, words: list[str]) -> None:
    """No value types beside options (`<str>`, `<bool>`), no braces round arguments, no
    line broken where the source broke it, and each command's summary whole."""
    result = cli(*words, "--help", env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"Usage: paced {' '.join(words)}".rstrip())
    assert not re.search(r"<\w+(?:\[\w+\])?(?: range)?>", text), text
    assert "{" not in text and "..." not in text.split("Commands:")[-1], text
    description = text.split("\n\n")[1]
    assert all(len(line) > 40 for line in description.splitlines()[:-1]), text


def test_the_console_script_creates_and_lists_a_token(database_url: str, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = paced(*args, database_url=database_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result

    run("users", "create", "--email", "ann@example.com", "--password", "x" * 10)
    created = json.loads(
        run("tokens", "create", "--user", "ann@example.com", "--name", "ci").stdout
    )
    [listed] = json.loads(run("tokens", "list", "--user", "ann@example.com", "--json").stdout)
    assert listed["id"] == created["id"] and listed["hint"] == created["hint"]
    assert created["token"] not in json.dumps(listed)


def test_a_reader_that_leaves_ends_the_output_quietly(database_url: str, tmp_path: Path) -> None:
    """`paced audit | head -1`: more lines than a pipe holds, and the reader goes after
    one. No traceback, and no word of the database."""

    async def many_events() -> None:
        engine = open_database(database_url)
        try:
            async with engine.unit_of_work() as store:
                for n in range(600):  # some 120 KB: more than a pipe holds
                    await security_log.record(
                        store,
                        "sign_in_failed",
                        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
                        COMMAND_LINE,
                        user_id=None,
                        detail={"email": f"guess{n}@example.com"},
                    )
        finally:
            await engine.close()

    run_sync(many_events())
    with subprocess.Popen(
        [str(SCRIPT), "audit"],
        env=environment(database_url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout and process.stderr
        first = process.stdout.readline()
        process.stdout.close()  # as `head -1` does
        errors = process.stderr.read()
        process.wait(timeout=60)
    assert json.loads(first)["event"] == "sign_in_failed"
    assert errors == ""
    assert process.returncode in (0, 1)


SECRET = "pt_secret_" + "A" * 30 + "0Wq1kX"


@pytest.mark.parametrize(
    "args",
    [
        ["tokens", "create", "--user", "ann@example.com", "--name", "n", "--expires-in", SECRET],
        ["tokens", "list", "--user", SECRET],
        ["tokens", "revoke", SECRET],
        ["users", "disable", SECRET],
        ["users", "reset-password", SECRET],
        ["apps", "show", SECRET],
        ["audit", "--since", SECRET],
        ["audit", "--user", SECRET],
    ],
    ids=lambda args: " ".join(a for a in args if a != SECRET),
)
def test_a_secret_typed_anywhere_is_never_echoed(cli: Cli, args: list[str]) -> None:
    """An operator may paste a secret where an email, an id or a time belongs: the error
    names it by its hint, so that it lands in no scrollback or CI log."""
    assert (
        cli("users", "create", "--email", "ann@example.com", "--password", "x" * 10).exit_code == 0
    )
    result = cli(*args)
    assert result.exit_code in (1, 2)
    assert SECRET not in result.stdout + result.stderr
    assert SECRET[-12:] not in result.stdout + result.stderr
