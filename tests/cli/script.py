"""The real console script, in a process of its own: for the few tests that need one
(the entry point itself, a closed pipe). tests/conftest.py puts this tree first on
PYTHONPATH, so that it runs the code under test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import CHEAP_HASHING_ENV

SCRIPT = Path(sys.executable).with_name("paced")


def environment(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
    env.update({"PACED_DATABASE_URL": database_url, **CHEAP_HASHING_ENV, **(extra or {})})
    return env


def paced(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env=environment(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
