"""What the browser scenarios share: people and apps made over plain HTTP (fast, and not
what is under test), a client's redirect endpoint on 127.0.0.1, and the client's side of
the token exchange."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from playwright.sync_api import Page, expect

from tests.helpers import csrf_token

PASSWORD = "correct horse battery"
# Registered without a port: a loopback redirect may differ in port only (RFC 8252 §7.3),
# so the callback server below takes whatever port is free.
LOOPBACK_REDIRECT = "http://127.0.0.1/callback"
_INPUT_VALUE = r'<input id="{}" type="text" value="([^"]+)"'


@dataclass(frozen=True)
class RegisteredApp:
    client_id: str
    client_secret: str
    owner_email: str


def sign_up_in_browser(page: Page, server: str, name: str, email: str) -> None:
    page.goto(f"{server}/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server}/settings/developer")


def signed_up_client(server: str, name: str, email: str) -> httpx.Client:
    """An HTTP client with a new account's session, signed up through the form."""
    http = httpx.Client(base_url=server, timeout=10)
    form = http.get("/signup")
    fields = {"csrf_token": csrf_token(form.text), "name": name, "email": email}
    response = http.post("/signup", data={**fields, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return http


def register_app(
    server: str,
    *,
    name: str = "Mailmerge",
    owner: tuple[str, str] = ("Olivia Owner", "olivia@example.com"),
    redirect_uris: str = LOOPBACK_REDIRECT,
    description: str = "Sends your newsletters on a schedule.",
    homepage_url: str = "https://mailmerge.example",
) -> RegisteredApp:
    """A developer registers a confidential app through the pages, as in the browser."""
    http = signed_up_client(server, *owner)
    try:
        form = http.get("/settings/developer/applications/new")
        fields = {
            "csrf_token": csrf_token(form.text),
            "name": name,
            "redirect_uris": redirect_uris,
            "homepage_url": homepage_url,
            "description": description,
            "client_type": "confidential",
        }
        created = http.post("/settings/developer/applications/new", data=fields)
        assert created.status_code == 303, created.text
        shown = http.get(created.headers["location"]).text
    finally:
        http.close()
    client_id = re.search(_INPUT_VALUE.format("client-id"), shown)
    secret = re.search(_INPUT_VALUE.format("client-secret"), shown)
    assert client_id and secret, "the app page shows no client ID or secret"
    return RegisteredApp(client_id.group(1), secret.group(1), owner[1])


def register_device_app(server: str) -> str:
    """A developer registers a public app with `Enable device flow` ticked; its client id."""
    http = signed_up_client(server, "Olivia Owner", "olivia@example.com")
    try:
        form = http.get("/settings/developer/applications/new")
        created = http.post(
            "/settings/developer/applications/new",
            data={
                "csrf_token": csrf_token(form.text),
                "name": "Paced CLI",
                "redirect_uris": "http://127.0.0.1/callback",
                "client_type": "public",
                "device_flow": "on",
            },
        )
        assert created.status_code == 303, created.text
        found = re.search(
            _INPUT_VALUE.format("client-id"), http.get(created.headers["location"]).text
        )
    finally:
        http.close()
    assert found
    return found.group(1)


def authorize_url(server: str, app: RegisteredApp, redirect_uri: str, **params: str) -> str:
    """The link a client sends a person to (RFC 6749 §4.1.1)."""
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect_uri}
    return f"{server}/oauth/authorize?{urlencode({**query, **params})}"


def exchange_code(server: str, app: RegisteredApp, code: str, redirect_uri: str) -> Any:
    """The client's back channel: the code for tokens (client_secret_post)."""
    response = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def me(server: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{server}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


class CallbackServer:
    """A client's redirect endpoint: a tiny http.server on 127.0.0.1, in a thread, for as
    long as the `with` block lasts. Each request to /callback hands its query over."""

    def __init__(self, port: int, received: queue.Queue[dict[str, str]]) -> None:
        self._received = received
        self.redirect_uri = f"http://127.0.0.1:{port}/callback"

    def wait(self, timeout: float = 10) -> dict[str, str]:
        """The next callback's query parameters (each must come once)."""
        try:
            return self._received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no request reached {self.redirect_uri} in {timeout} s") from None

    def nothing_more(self) -> bool:
        return self._received.empty()


@contextmanager
def callback_server() -> Iterator[CallbackServer]:
    received: queue.Queue[dict[str, str]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            query = parse_qs(parts.query, keep_blank_values=True)
            assert all(len(values) == 1 for values in query.values()), query
            received.put({name: values[0] for name, values in query.items()})
            body = b"<!doctype html><title>Mailmerge</title><h1>Back at Mailmerge</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield CallbackServer(int(httpd.server_address[1]), received)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
