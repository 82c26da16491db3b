from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paced.cli.metrics_listener import ENV, metrics_listener
from tests.e2e.server import free_port


@pytest.fixture
def no_multiproc_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR unset now, and unset again afterwards."""
    monkeypatch.setenv(ENV, "placeholder")
    monkeypatch.delenv(ENV)
    yield


def test_no_port_is_no_listener(no_multiproc_dir: None) -> None:
    with metrics_listener("127.0.0.1", 0) as url:
        assert url is None
        assert ENV not in os.environ


def test_metrics_are_served_from_a_folder_of_their_own_removed_afterwards(
    no_multiproc_dir: None,
) -> None:
    port = free_port()
    with metrics_listener("127.0.0.1", port) as url:
        assert url == f"http://127.0.0.1:{port}/metrics"
        folder = Path(os.environ[ENV])
        assert folder.is_dir()
        assert httpx.get(url).status_code == 200
    assert not folder.exists()


def test_a_folder_the_operator_named_is_emptied_of_old_counts_and_kept(
    no_multiproc_dir: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"old")
    monkeypatch.setenv(ENV, str(tmp_path))
    with metrics_listener("127.0.0.1", free_port()):
        assert not stale.exists()
    assert tmp_path.is_dir()


def test_a_busy_port_is_an_error_and_leaves_no_folder(
    no_multiproc_dir: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes folders
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError), metrics_listener("127.0.0.1", busy.getsockname()[1]):
            pass
    assert list(tmp_path.iterdir()) == []
