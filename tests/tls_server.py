"""A real HTTPS server on 127.0.0.1 with a certificate from a throwaway authority
(trustme), for tests of paced's outbound fetches: `SSL_CERT_FILE` pointed at the
authority's file makes paced trust it, as an operator's would."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds between chunks of 1 byte (a slow drip), or None to send at once.
    drip: float | None = None


@dataclass
class Site:
    """What the server answers, by path, and what it was asked."""

    base: str
    routes: dict[str, Reply | Callable[[], Reply]]
    hits: list[str] = field(default_factory=list)


@dataclass
class Authority:
    ca: trustme.CA
    cafile: Path


def authority(folder: Path) -> Authority:
    ca = trustme.CA()
    cafile = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return Authority(ca, cafile)


@contextmanager
def https_site(
    authority: Authority, hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "docs.test")
) -> Iterator[Site]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.ca.issue_cert(*hosts).configure_cert(context)
    site = Site(base="", routes={})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            route = site.routes.get(self.path)
            reply = route() if callable(route) else route
            if reply is None:
                reply = Reply(404, b"not found")
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            if reply.drip is None:
                headers.setdefault("Content-Length", str(len(reply.body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                if reply.drip is None:
                    self.wfile.write(reply.body)
                    return
                for byte in reply.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(reply.drip)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client gave up, as it should

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    site.base = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
