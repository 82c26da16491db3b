"""`./scripts/setup` and `./scripts/serve` say what they do in a few lines: pip's output
goes to a log file, shown only when the install fails. Run on a copy of the scripts with
a stand-in `.venv` (no real install: that needs the network and minutes)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[1]
NOISE = "Collecting fastapi\nRequirement already satisfied: pip\n[notice] A new release of pip"


def checkout(tmp_path: Path, pip_exit: int = 0) -> Path:
    """The scripts and the files they read, with a `.venv` whose python runs the real one
    except for `-m pip`, which prints pip's kind of noise and exits `pip_exit`."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, repo / name)
    bin_ = repo / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1 $2" = "-m pip" ]; then printf "%s\\n" "{NOISE}"; exit {pip_exit}; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    (bin_ / "paced").write_text(f'#!/usr/bin/env bash\nexec {sys.executable} -m paced "$@"\n')
    for script in bin_.iterdir():
        script.chmod(0o755)
    return repo


def run(repo: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / script)], capture_output=True, text=True, timeout=60, check=False
    )


def test_setup_says_one_line_and_keeps_pips_output_in_a_log(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    first = run(repo, "setup")
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.startswith("Setting up .venv")
    assert len(first.stderr.splitlines()) == 1, first.stderr
    assert "Collecting" in (repo / ".venv" / "setup.log").read_text()
    again = run(repo, "setup")  # installed: nothing to do, nothing said
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_a_failed_install_shows_pips_output(tmp_path: Path) -> None:
    repo = checkout(tmp_path, pip_exit=1)
    failed = run(repo, "setup")
    assert failed.returncode == 1
    assert "Collecting fastapi" in failed.stderr
    assert "the install failed" in failed.stderr
    assert not (repo / ".venv" / ".paced-installed").exists()


@pytest.mark.e2e
def test_serve_shows_setting_up_migrating_and_the_url_in_a_few_lines(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
    env["PACED_LOG_FORMAT"] = "text"
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [str(repo / "scripts" / "serve"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    lines = output.splitlines()
    assert lines[0].startswith("Setting up .venv"), output
    assert any("database is up to date" in line for line in lines), output
    assert any(f"paced is serving http://127.0.0.1:{port}" in line for line in lines), output
    assert "Collecting" not in output and "pip" not in output
    assert len(lines) <= 8, output
