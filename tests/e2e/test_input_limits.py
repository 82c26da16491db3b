"""Input limits of a real `paced serve` (paced.web.limits): an oversized request head or
body gets a 4xx and the server goes on serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import paced_serve

pytestmark = pytest.mark.e2e

HEAD_CAP = 32 * 1024


@pytest.fixture(scope="module")
def base(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module: nothing here writes to the database."""
    with paced_serve(migrated_database, tmp_path_factory.mktemp("limits")) as url:
        yield url


def raw(base: str, request: bytes, *, chunk: int = 65536) -> bytes:
    """Send bytes as they are, as fast as the server reads them; what it answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            for start in range(0, len(request), chunk):
                sock.sendall(request[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end: the answer may still be there to read
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


def head_with(header: int) -> bytes:
    return (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: "
        + b"a" * header
        + b"\r\nConnection: close\r\n\r\n"
    )


@pytest.mark.parametrize("size", [40_000, 1_000_000], ids=["over the cap", "far over the cap"])
def test_an_oversized_request_head_gets_431_and_the_server_goes_on(base: str, size: int) -> None:
    answer = raw(base, head_with(size), chunk=4096)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    if size < 100_000:  # sent before the server could refuse: the answer arrives whole
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_a_request_head_under_the_cap_is_served(base: str) -> None:
    answer = raw(base, head_with(HEAD_CAP - 200))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


def test_an_oversized_body_gets_413_in_the_endpoints_shape(base: str) -> None:
    body = b"x" * (100 * 1024)
    api = httpx.post(f"{base}/oauth/revoke", content=body, headers={"content-type": "text/plain"})
    assert api.status_code == 413
    assert api.json()["error"] == "invalid_request"
    page = httpx.post(f"{base}/login", content=body)
    assert page.status_code == 413
    assert "Request too large" in page.text
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_an_undeclared_oversized_body_is_refused_as_it_streams(base: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 10_000

    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = httpx.post(f"{base}/login", content=chunks(), headers=form)
    assert answer.status_code == 413
    assert httpx.get(f"{base}/healthz").status_code == 200
