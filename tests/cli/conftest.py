"""`cli`: the `paced` command run in this process (Typer's CliRunner), on the test's
database. Only a few tests start the real console script (tests/cli/script.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from paced.cli.main import app
from tests.helpers import CHEAP_HASHING_ENV

Cli = Callable[..., Result]


def invoke(
    database_url: str, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> Result:
    """`paced ARGS…` in this process, with none of the caller's PACED_ variables."""
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PACED_")}
    environment.update({"PACED_DATABASE_URL": database_url, **CHEAP_HASHING_ENV, **(env or {})})
    return CliRunner().invoke(
        app, list(args), env=environment, input=stdin, prog_name="paced", catch_exceptions=False
    )


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # no .env of the working tree

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        return invoke(database_url, *args, env=env, stdin=stdin)

    return run
