"""No secret in any log line: every flow runs against a real `paced serve` whose every
logger writes at DEBUG (paced, uvicorn, SQLAlchemy's statements with their bound
parameters and result rows, asyncio, the root logger), and the client's own logs (httpx)
are captured too. Then no password, token, client secret, code, code verifier, session
cookie, CSRF token or secret-showing cookie may appear in any of it, raw or encoded.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

import httpx
import pytest

from paced.core import pkce
from tests.e2e.server import paced_node
from tests.helpers import csrf_token

pytestmark = pytest.mark.e2e

# Every logger at DEBUG, SQLAlchemy's included: statements, bound parameters and rows.
DEBUG_EVERYWHERE = """
import logging
import paced.logs
import paced.storage.compiled

_configure = paced.logs.logging_config


def _everything(fmt, level="INFO"):
    config = _configure(fmt, "DEBUG")
    config["root"] = {"handlers": ["stderr"], "level": "DEBUG"}
    for name in ("paced", "uvicorn", "uvicorn.error"):
        config["loggers"].setdefault(name, {})["level"] = "DEBUG"
    return config


paced.logs.logging_config = _everything
# paced logs no SQL; log each statement here with its values, to see that none is secret.
_plans = paced.storage.compiled.Plans.__init__


def _logging_plans(self, *args, **kwargs):
    _plans(self, *args, **kwargs)
    sql = logging.getLogger("paced.sql")
    self.listeners.append(lambda statement, values: sql.debug("SQL %s %r", statement, values))


paced.storage.compiled.Plans.__init__ = _logging_plans
for name in ("asyncio", "multipart"):
    logging.getLogger(name).setLevel(logging.DEBUG)
"""

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another horse, another battery"
WRONG_PASSWORD = "not the password at all"
REDIRECT = "https://integration.example/callback"
_SECRETS = re.compile(r"pt_(?:secret|client|oauth|refresh)_[0-9A-Za-z]{36}")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_CLIENT_ID = re.compile(r'id="client-id" type="text" value="([0-9A-Za-z]+)"')


@dataclass
class Secrets:
    """Everything secret the flows saw, to look for in the logs."""

    values: set[str] = field(default_factory=set)
    # Put into a URL by the client itself (a mistake the server refuses): its own request
    # log shows them, and only the server's log must not.
    sent_in_urls: set[str] = field(default_factory=set)

    def add(self, *values: str | None) -> None:
        self.values.update(v for v in values if v)

    def from_page(self, text: str) -> list[str]:
        found = sorted(set(_SECRETS.findall(text)))
        self.add(*found)
        return found

    def from_cookies(self, http: httpx.Client) -> None:
        self.add(*(cookie.value for cookie in http.cookies.jar))

    def forms(self) -> set[str]:
        """Each secret as itself, and as it would look URL-encoded or in base64."""
        shown: set[str] = set()
        for value in self.values:
            shown |= {value, quote(value), quote_plus(value)}
            shown.add(base64.b64encode(value.encode()).decode().rstrip("="))
            shown.add(base64.urlsafe_b64encode(value.encode()).decode().rstrip("="))
        return {s for s in shown if len(s) >= 8}


def form_post(
    http: httpx.Client, page: str, action: str | None, secrets: Secrets, **fields: str
) -> httpx.Response:
    shown = http.get(page)
    assert shown.status_code == 200, shown.text
    token = csrf_token(shown.text)
    secrets.add(token)
    response = http.post(action or page, data={"csrf_token": token, **fields})
    secrets.from_cookies(http)
    return response


def changed_last(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def run_every_flow(base: str, secrets: Secrets) -> None:
    secrets.add(PASSWORD, NEW_PASSWORD, WRONG_PASSWORD)
    with httpx.Client(base_url=base, timeout=20) as ann:
        # Sign-up, sign-out, a failed sign-in, a sign-in, a password change.
        email = "ann@example.com"
        signed_up = form_post(
            ann, "/signup", None, secrets, email=email, name="Ann", password=PASSWORD
        )
        assert signed_up.status_code == 303
        assert form_post(ann, "/settings/account", "/logout", secrets).status_code == 303
        failed = form_post(ann, "/login", None, secrets, email=email, password=WRONG_PASSWORD)
        assert failed.status_code == 400
        logged_in = form_post(ann, "/login", None, secrets, email=email, password=PASSWORD)
        assert logged_in.status_code == 303
        changed = form_post(
            ann,
            "/settings/account",
            "/settings/account/password",
            secrets,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
        )
        assert changed.status_code == 303

        # A personal access token: created, shown once, used, revoked, refused.
        created = form_post(
            ann,
            "/settings/developer/tokens/new",
            None,
            secrets,
            name="backup",
            scopes="read",
            expiration="30",
        )
        assert created.status_code == 303
        secrets.from_cookies(ann)  # the cookie that carries the secret to its page
        [personal] = secrets.from_page(ann.get(created.headers["location"]).text)
        bearer = {"Authorization": f"Bearer {personal}"}
        assert ann.get("/api/v1/me", headers=bearer).status_code == 200
        listing = ann.get("/settings/developer").text
        [revoke] = re.findall(r'href="(/settings/developer/tokens/pat_\w+/revoke)"', listing)
        assert form_post(ann, revoke, None, secrets).status_code == 303
        assert ann.get("/api/v1/me", headers=bearer).status_code == 401
        garbage = {"Authorization": "Bearer pt_secret_nope"}
        assert ann.get("/api/v1/me", headers=garbage).status_code == 401

        # An application: registered, its secret rotated.
        registered = form_post(
            ann,
            "/settings/developer/applications/new",
            None,
            secrets,
            name="Interop",
            redirect_uris=REDIRECT,
            client_type="confidential",
        )
        assert registered.status_code == 303
        app_page = registered.headers["location"]
        secrets.from_cookies(ann)
        shown = ann.get(app_page).text
        [first_secret] = secrets.from_page(shown)
        found_id = _CLIENT_ID.search(shown)
        assert found_id, "the app's page shows no client ID"
        client_id = found_id.group(1)
        assert form_post(ann, app_page, f"{app_page}/secrets", secrets).status_code == 303
        secrets.from_cookies(ann)
        [client_secret] = [
            s for s in secrets.from_page(ann.get(app_page).text) if s != first_secret
        ]

        def authorize(decision: str = "approve") -> tuple[dict[str, list[str]], str]:
            """Ann approves (or denies) on the consent screen: what the client receives
            at its redirect URI, and the PKCE verifier the client keeps."""
            verifier = token_urlsafe(32)
            secrets.add(verifier)
            query = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "state": "s-1",
                "scope": "read write",
                "code_challenge": pkce.challenge_of(verifier),
                "code_challenge_method": "S256",
                "prompt": "consent",  # the screen each time, to approve or deny
            }
            page = ann.get(f"/oauth/authorize?{urlencode(query)}")
            assert page.status_code == 200, page.text
            fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
            secrets.add(fields.get("csrf_token"))
            fields["decision"] = decision
            answer = ann.post("/oauth/authorize", data=fields)
            assert answer.status_code == 303, answer.text
            received = parse_qs(urlsplit(answer.headers["location"]).query)
            secrets.add(*received.get("code", []))
            return received, verifier

        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        secrets.add(basic)
        post_auth = {"client_id": client_id, "client_secret": client_secret}

        def token(form: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
            answer = ann.post("/oauth/token", data=form, headers=headers)
            if answer.status_code == 200:
                secrets.add(answer.json()["access_token"], answer.json()["refresh_token"])
            return answer

        # Authorization, consent, the code exchanged (Basic), refreshed (body), reused.
        received, verifier = authorize()
        code = received["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        tokens = token(
            {**exchange, "code_verifier": verifier}, headers={"Authorization": f"Basic {basic}"}
        ).json()
        as_app = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert ann.get("/api/v1/me", headers=as_app).status_code == 200
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        rotated = token({**refresh, **post_auth})
        assert rotated.status_code == 200
        # Failed variants: a replayed code, a reused refresh token, a wrong secret, a
        # wrong verifier, credentials in the query string, a denial.
        assert token({**exchange, "code_verifier": verifier, **post_auth}).status_code == 400
        assert token({**refresh, **post_auth}).status_code == 400
        wrong = {"client_id": client_id, "client_secret": changed_last(first_secret)}
        secrets.add(wrong["client_secret"])
        assert token({**refresh, **wrong}).status_code == 401
        received, verifier = authorize()
        code = received["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        bad_verifier = changed_last(verifier)
        secrets.add(bad_verifier)
        assert token({**exchange, "code_verifier": bad_verifier, **post_auth}).status_code == 400
        secrets.sent_in_urls.add(client_secret)
        in_query = ann.post(f"/oauth/token?{urlencode(post_auth)}", data=exchange)
        assert in_query.status_code == 400
        received, verifier = authorize()
        code = received["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        tokens = token({**exchange, "code_verifier": verifier, **post_auth}).json()
        assert authorize(decision="deny")[0]["error"] == ["access_denied"]

        # Introspection and revocation, of live and dead tokens.
        def about(path: str, token: str) -> httpx.Response:
            return ann.post(path, data={"token": token, **post_auth})

        for live in (tokens["access_token"], tokens["refresh_token"], "pt_oauth_nope"):
            assert about("/oauth/introspect", live).status_code == 200
        assert about("/oauth/revoke", tokens["access_token"]).status_code == 200
        assert about("/oauth/revoke", tokens["refresh_token"]).status_code == 200
        assert about("/oauth/introspect", tokens["access_token"]).json() == {"active": False}

        # The authorized-applications page, and signing out everywhere.
        assert ann.get("/settings/authorized-applications").status_code == 200
        everywhere = "/settings/account/sign-out-everywhere"
        assert form_post(ann, "/settings/account", everywhere, secrets).status_code == 303
        secrets.from_cookies(ann)


@pytest.fixture
def client_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_no_secret_appears_in_any_log_line_at_debug(
    database_url: str, tmp_path: Path, client_logs: pytest.LogCaptureFixture
) -> None:
    secrets = Secrets()
    with paced_node(
        database_url, tmp_path, env={"PACED_LOG_FORMAT": "text"}, bootstrap=DEBUG_EVERYWHERE
    ) as node:
        run_every_flow(node.base, secrets)
    server_log = node.log.read_text()
    # The logs are really at DEBUG: SQL with its parameters, and every request.
    assert "SQL INSERT INTO" in server_log
    assert "POST /oauth/token 200" in server_log
    assert "HTTP Request: POST" in client_logs.text
    assert len(secrets.values) > 20
    # The client's own requests, as httpx logs them (httpcore's traces print every
    # response header, Set-Cookie included, whatever the server does).
    client_log = "\n".join(
        record.getMessage() for record in client_logs.records if record.name.startswith("httpx")
    )
    in_server_log = sorted(secret for secret in secrets.forms() if secret in server_log)
    assert not in_server_log, f"secrets in the server's log: {in_server_log}"
    for mistake in secrets.sent_in_urls:
        client_log = client_log.replace(mistake, "")
    in_client_log = sorted(secret for secret in secrets.forms() if secret in client_log)
    assert not in_client_log, f"secrets in the client's log: {in_client_log}"
