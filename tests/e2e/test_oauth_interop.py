"""Stock OAuth client libraries against a real `paced serve`: Authlib's OAuth2Client
(configured from the RFC 8414 metadata, PKCE S256, refreshing by itself when the access
token expires) and requests-oauthlib's OAuth2Session (client_secret_post and Basic).

A person signs up and approves on the consent page, driven with httpx; the app comes
from `paced apps create`, as an operator makes one. Access tokens live 2 seconds here so
that the libraries' own refresh logic runs.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session

from tests.e2e.server import paced_serve
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e

REDIRECT = "https://integration.example/oauth/callback"
EMAIL = "ann@example.com"
PASSWORD = "correct horse battery"
TOKEN_TTL = 2
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class Server:
    base: str
    metadata: dict[str, Any]
    browser: httpx.Client  # Ann, signed in
    database_url: str
    workdir: Path

    def create_app(self, *, public: bool = False) -> dict[str, Any]:
        """`paced apps create`, as an operator runs it."""
        command = [sys.executable, "-m", "paced", "apps", "create", "--owner", EMAIL]
        command += ["--name", "Interop", "--redirect-uri", REDIRECT]
        if public:
            command.append("--public")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PACED_")}
        environment["PACED_DATABASE_URL"] = self.database_url
        result = subprocess.run(
            command,
            env=environment,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        created: dict[str, Any] = json.loads(result.stdout)
        return created

    def approve(self, authorization_url: str) -> str:
        """Ann approves on the consent page; returns where she is sent, with the code."""
        page = self.browser.get(authorization_url)
        assert page.status_code == 200, page.text
        assert "Authorize Interop" in page.text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
        fields["decision"] = "approve"
        response = self.browser.post("/oauth/authorize", data=fields)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT + "?")
        query = parse_qs(urlsplit(location).query)
        assert query["iss"] == [self.base]  # RFC 9207
        return location

    def me(self, access_token: str) -> int:
        headers = {"Authorization": f"Bearer {access_token}"}
        return httpx.get(f"{self.base}/api/v1/me", headers=headers).status_code


@pytest.fixture
def server(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    env = {"PACED_ACCESS_TOKEN_TTL": str(TOKEN_TTL)}
    workers = getattr(request, "param", 1)
    with paced_serve(database_url, tmp_path, env=env, workers=workers) as base:
        with httpx.Client(base_url=base) as browser:
            page = browser.get("/signup")
            signed_up = browser.post(
                "/signup",
                data={
                    "csrf_token": csrf_token(page.text),
                    "email": EMAIL,
                    "password": PASSWORD,
                    "name": "Ann",
                },
            )
            assert signed_up.status_code == 303
            metadata = httpx.get(f"{base}/.well-known/oauth-authorization-server").json()
            yield Server(base, metadata, browser, database_url, tmp_path)


def wait_for_expiry() -> None:
    time.sleep(TOKEN_TTL + 1.2)


# --- Authlib ---------------------------------------------------------------------------


def authlib_client_class(flavour: str) -> type[Any]:
    if flavour == "requests":
        return AuthlibSession
    # Authlib's httpx integration warns that plain httpx is deprecated in favour of httpx2.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client

    return OAuth2Client  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("flavour", "public"),
    [("requests", False), ("httpx", False), ("httpx", True)],
    ids=[
        "Authlib over requests as a confidential client (Basic)",
        "Authlib's httpx OAuth2Client as a confidential client (Basic)",
        "Authlib's httpx OAuth2Client as a public client",
    ],
)
def test_authlib_completes_the_flow_and_refreshes_by_itself(
    server: Server, flavour: str, public: bool
) -> None:
    created = server.create_app(public=public)
    metadata = server.metadata
    updates: list[dict[str, Any]] = []
    client = authlib_client_class(flavour)(
        client_id=created["client_id"],
        client_secret=created["client_secret"],
        scope="read write",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        revocation_endpoint_auth_method="none" if public else "client_secret_basic",
        update_token=lambda token, **_: updates.append(dict(token)),
        leeway=0,
    )
    with client:
        verifier = generate_token(48)
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        location = server.approve(url)
        first = dict(client.fetch_token(authorization_response=location, code_verifier=verifier))
        assert first["token_type"] == "bearer" and first["expires_in"] == TOKEN_TTL
        assert first["scope"] == "read write"

        me = client.get(f"{server.base}/api/v1/me")
        assert me.status_code == 200 and me.json()["email"] == EMAIL
        assert updates == []

        wait_for_expiry()
        assert server.me(first["access_token"]) == 401  # expired, as the library expects
        me = client.get(f"{server.base}/api/v1/me")  # the library refreshes first
        assert me.status_code == 200, me.text
        assert len(updates) == 1
        assert updates[0]["refresh_token"] != first["refresh_token"]
        assert updates[0]["access_token"] == client.token["access_token"]

        # RFC 7009 through the library: the refresh token ends the whole grant.
        revoked = client.revoke_token(
            metadata["revocation_endpoint"],
            token=client.token["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
        assert server.me(client.token["access_token"]) == 401


def test_authlib_introspects_its_own_tokens(server: Server) -> None:
    created = server.create_app()
    metadata = server.metadata
    with AuthlibSession(
        client_id=created["client_id"],
        client_secret=created["client_secret"],
        scope="read",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
        token_endpoint_auth_method="client_secret_post",
    ) as client:
        verifier = generate_token(48)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        token = client.fetch_token(
            authorization_response=server.approve(url), code_verifier=verifier
        )
        answer = client.introspect_token(
            metadata["introspection_endpoint"], token=token["access_token"]
        )
        assert answer.status_code == 200
        body = answer.json()
        assert (body["active"], body["client_id"], body["username"]) == (
            True,
            created["client_id"],
            EMAIL,
        )
        assert body["scope"] == "read" and body["token_type"] == "bearer"


# --- requests-oauthlib ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_requests_oauthlib_completes_the_flow_and_refreshes_by_itself(
    server: Server, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test server is plain http
    created = server.create_app()
    client_id, secret = created["client_id"], created["client_secret"]
    post = method == "client_secret_post"
    updates: list[dict[str, Any]] = []
    session = OAuth2Session(
        client_id,
        redirect_uri=REDIRECT,
        scope=["read", "write"],
        auto_refresh_url=server.metadata["token_endpoint"],
        auto_refresh_kwargs={"client_id": client_id, "client_secret": secret} if post else {},
        token_updater=updates.append,
    )
    with session:
        url, _state = session.authorization_url(server.metadata["authorization_endpoint"])
        location = server.approve(url)
        if post:
            token = session.fetch_token(
                server.metadata["token_endpoint"],
                authorization_response=location,
                client_secret=secret,
                include_client_id=True,
            )
        else:  # the library's default: HTTP Basic
            token = session.fetch_token(
                server.metadata["token_endpoint"],
                authorization_response=location,
                client_secret=secret,
            )
        assert token["scope"] == ["read", "write"]
        assert session.get(f"{server.base}/api/v1/me").json()["email"] == EMAIL

        wait_for_expiry()
        basic = {} if post else {"client_id": client_id, "client_secret": secret}
        me = session.get(f"{server.base}/api/v1/me", **basic)  # refreshes first
        assert me.status_code == 200, me.text
        assert len(updates) == 1
        assert updates[0]["refresh_token"] != token["refresh_token"]
        # The replaced refresh token, replayed, ends the grant (RFC 9700 §4.14).
        replay = httpx.post(
            server.metadata["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
        assert server.me(updates[0]["access_token"]) == 401


# --- single use across processes ------------------------------------------------------


@pytest.mark.parametrize("server", [2], indirect=True, ids=["two worker processes"])
def test_parallel_requests_to_several_workers_have_one_winner(server: Server) -> None:
    created = server.create_app()
    credentials = {"client_id": created["client_id"], "client_secret": created["client_secret"]}
    query = urlencode(
        {"response_type": "code", "client_id": created["client_id"], "redirect_uri": REDIRECT}
    )
    location = server.approve(f"{server.base}/oauth/authorize?{query}")
    code = parse_qs(urlsplit(location).query)["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}

    def post_all(form: dict[str, str]) -> list[httpx.Response]:
        start = threading.Barrier(16)

        def post(_: int) -> httpx.Response:
            with httpx.Client(timeout=30) as http:
                start.wait()
                return http.post(server.metadata["token_endpoint"], data=form)

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(post, range(16)))

    exchanges = post_all({**exchange, **credentials})
    assert sorted(r.status_code for r in exchanges) == [200] + [400] * 15

    # A fresh approval, so that the replays above (which revoked the first) do not matter.
    location = server.approve(f"{server.base}/oauth/authorize?{query}&prompt=consent")
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = httpx.post(
        server.metadata["token_endpoint"], data={**exchange, "code": code, **credentials}
    ).json()
    refreshes = post_all(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **credentials}
    )
    assert sorted(r.status_code for r in refreshes) == [200] + [400] * 15
    assert {r.json()["error"] for r in refreshes if r.status_code == 400} == {"invalid_grant"}
