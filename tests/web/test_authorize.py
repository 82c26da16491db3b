"""`/oauth/authorize` over HTTP: the login round trip, the consent screen, approval and
denial, the error page versus the redirect, CSRF and forged posts."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, func, insert, select

from paced.core import pkce
from paced.core.ids import digest, new_id, random_base62
from paced.storage.database import Database
from paced.storage.models import apps, authorization_codes, grants, users
from tests.conftest import Clock
from tests.helpers import begin, connect, csrf_token, sign_up, submit

ISSUER = "http://testserver"
REDIRECT = "https://client.example/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = pkce.challenge_of(VERIFIER)
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Client:
    app_id: str
    client_id: str


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


async def register(
    app: FastAPI,
    *,
    redirect_uris: tuple[str, ...] = (REDIRECT,),
    public: bool = False,
    name: str = "Zapier",
) -> Client:
    """An app owned by Olivia, inserted as the applications pages would store it."""
    engine = engine_of(app)
    owner_id, app_id, client_id = new_id("user"), new_id("app"), random_base62(32)
    async with begin(engine) as connection:
        await connection.execute(
            insert(users).values(
                id=owner_id,
                email=f"olivia-{owner_id[-6:]}@example.com",
                email_key=f"olivia-{owner_id[-6:]}@example.com",
                name="Olivia Owner",
                time_zone="UTC",
                password_hash="x",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await connection.execute(
            insert(apps).values(
                id=app_id,
                owner_id=owner_id,
                name=name,
                description="Automates your email.",
                homepage_url="https://zapier.example",
                client_id=client_id,
                redirect_uris=json.dumps(list(redirect_uris)),
                public=public,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return Client(app_id, client_id)


@pytest.fixture
async def web(app: FastAPI) -> Client:
    return await register(app)


def authorize_url(client: Client, **params: str | None) -> str:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "state": "st-123",
        **params,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in values.items() if v is not None})


def answer(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The redirect target without its query, and the query's parameters."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    parts = urlsplit(location)
    return location.split("?", 1)[0], dict(parse_qsl(parts.query))


def hidden_fields(page: str) -> dict[str, str]:
    """The form's hidden fields, their values unescaped as a browser would."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


async def decide(
    http: httpx.AsyncClient, page: httpx.Response, decision: str, **changes: str
) -> httpx.Response:
    """Post the consent form as a browser would, with its hidden fields (some changed)."""
    assert page.status_code == 200, page.text
    data = {**hidden_fields(page.text), **changes, "decision": decision}
    return await http.post("/oauth/authorize", data=data)


async def count(app: FastAPI, table: Table) -> int:
    async with connect(engine_of(app)) as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


# --- Signing in and coming back ---------------------------------------------------------


async def test_a_signed_out_user_logs_in_and_comes_back_to_the_same_request(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    client.cookies.delete("paced_session")
    url = authorize_url(
        web, scope="read write", code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    response = await client.get(url)
    assert response.status_code == 303
    login = response.headers["location"]
    assert login.startswith("/login?next=")
    assert dict(parse_qsl(urlsplit(login).query)) == {"next": url}
    # The next parameter survives the login form.
    form = await client.get(login)
    assert f'name="next" value="{url.replace("&", "&amp;")}"' in form.text
    back = await submit(
        client,
        login,
        action="/login",
        email="ann@example.com",
        password=PASSWORD,
        next=hidden_fields(form.text)["next"],
    )
    assert back.status_code == 303
    assert back.headers["location"] == url
    consent = await client.get(back.headers["location"])
    assert consent.status_code == 200
    assert "Authorize Zapier" in consent.text


# --- The consent screen -----------------------------------------------------------------


async def test_the_consent_screen_names_app_owner_scopes_account_and_destination(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web, scope="read write"))
    assert page.status_code == 200
    text = page.text
    assert "Zapier" in text
    assert "Olivia Owner" in text and "@example.com</bdi>)" in text
    # Names are isolated, so that one stored with a bidirectional override before such
    # characters were refused cannot reorder the sentence around it.
    assert "<bdi>Zapier</bdi>" in text and "<bdi>Olivia Owner</bdi>" in text
    assert "Read your account data" in text and "Change your account data" in text
    assert "ann@example.com" in text
    assert "client.example" in text
    assert ">Authorize</button>" in text and ">Deny</button>" in text
    # Hard to approve by accident: nothing is autofocused, and Deny is the default button.
    assert "autofocus" not in text
    assert text.index(">Deny</button>") < text.index(">Authorize</button>")


async def test_the_consent_screen_is_not_cached_framed_or_referred(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_the_consent_form_carries_the_request_and_a_csrf_token(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(
        authorize_url(web, state='a"b<c>&d', code_challenge=CHALLENGE, code_challenge_method="S256")
    )
    fields = hidden_fields(page.text)
    assert fields["client_id"] == web.client_id
    assert fields["redirect_uri"] == REDIRECT
    assert fields["state"] == 'a"b<c>&d'
    assert 'value="a&#34;b&lt;c&gt;&amp;d"' in page.text  # escaped in the HTML
    assert fields["code_challenge"] == CHALLENGE
    assert fields["csrf_token"] == csrf_token(page.text)
    assert '<form method="post" action="/oauth/authorize">' in page.text


# --- Approving and denying --------------------------------------------------------------


async def test_authorize_redirects_with_code_state_and_iss_and_stores_only_the_digest(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(
        authorize_url(web, scope="write", code_challenge=CHALLENGE, code_challenge_method="S256")
    )
    response = await decide(client, page, "approve")
    target, params = answer(response)
    assert target == REDIRECT
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == "st-123"
    assert params["iss"] == ISSUER
    assert response.headers["cache-control"] == "no-store"
    async with connect(engine_of(app)) as connection:
        (code,) = (await connection.execute(select(authorization_codes))).all()
        (grant,) = (await connection.execute(select(grants))).all()
    assert code.digest == digest(params["code"])
    assert code.grant_id == grant.id
    assert code.redirect_uri == REDIRECT
    assert code.code_challenge == CHALLENGE
    assert (code.expires_at - code.created_at).total_seconds() == 600
    assert grant.app_id == web.app_id and grant.scopes == "write" and grant.revoked_at is None


async def test_state_comes_back_exactly_as_sent(client: httpx.AsyncClient, web: Client) -> None:
    await sign_up(client)
    state = 'a b&c=d/é"<>'
    page = await client.get(authorize_url(web, state=state))
    _, params = answer(await decide(client, page, "approve"))
    assert params["state"] == state


async def test_the_registered_query_is_kept_in_the_redirect(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    tenant = await register(app, redirect_uris=("https://client.example/cb?tenant=7",))
    await sign_up(client)
    page = await client.get(
        authorize_url(tenant, redirect_uri="https://client.example/cb?tenant=7")
    )
    response = await decide(client, page, "approve")
    assert response.headers["location"].startswith("https://client.example/cb?tenant=7&code=")


async def test_an_omitted_redirect_uri_goes_to_the_only_registered_one(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web, redirect_uri=None))
    assert "redirect_uri" not in hidden_fields(page.text)
    target, _ = answer(await decide(client, page, "approve"))
    assert target == REDIRECT
    async with connect(engine_of(app)) as connection:
        (code,) = (await connection.execute(select(authorization_codes))).all()
    assert code.redirect_uri == ""  # the token request must omit it too


async def test_deny_sends_access_denied_with_state_and_iss_and_grants_nothing(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    target, params = answer(await decide(client, page, "deny"))
    assert target == REDIRECT
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123" and params["iss"] == ISSUER
    assert await count(app, grants) == 0


async def test_a_loopback_client_gets_its_answer_on_the_port_it_asked_for(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    native = await register(app, redirect_uris=("http://127.0.0.1/callback",), public=True)
    await sign_up(client)
    url = authorize_url(
        native,
        redirect_uri="http://127.0.0.1:53124/callback",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
    )
    page = await client.get(url)
    assert "127.0.0.1:53124" in page.text
    target, params = answer(await decide(client, page, "approve"))
    assert target == "http://127.0.0.1:53124/callback"
    assert "code" in params


# --- Skipping the screen ------------------------------------------------------------------


async def test_an_app_already_granted_these_scopes_skips_the_screen_with_a_new_code(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    first = await decide(
        client, await client.get(authorize_url(web, scope="read write")), "approve"
    )
    _, first_params = answer(first)
    again = await client.get(authorize_url(web, scope="read", state="second"))
    _, params = answer(again)
    assert params["state"] == "second" and params["iss"] == ISSUER
    assert params["code"] != first_params["code"]
    assert again.headers["cache-control"] == "no-store"
    assert await count(app, grants) == 2  # every approval is a family of its own
    assert await count(app, authorization_codes) == 2


async def test_prompt_consent_shows_the_screen_even_when_granted(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    await decide(client, await client.get(authorize_url(web)), "approve")
    page = await client.get(authorize_url(web, prompt="consent"))
    assert page.status_code == 200
    assert ">Authorize</button>" in page.text


async def test_a_new_scope_shows_the_screen_again(client: httpx.AsyncClient, web: Client) -> None:
    await sign_up(client)
    await decide(client, await client.get(authorize_url(web)), "approve")
    page = await client.get(authorize_url(web, scope="write"))
    assert page.status_code == 200


async def test_another_users_approval_does_not_skip_the_screen(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    await decide(client, await client.get(authorize_url(web)), "approve")
    page = await client.get("/login")
    await client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    await sign_up(client, email="bob@example.com", name="Bob")
    assert (await client.get(authorize_url(web))).status_code == 200


# --- Errors that are shown, never redirected (RFC 6749 §4.1.2.1) -------------------------


def untrusted_cases(web: Client) -> dict[str, str]:
    base = {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": REDIRECT,
        "state": "s",
    }

    def url(pairs: list[tuple[str, str]]) -> str:
        return "/oauth/authorize?" + urlencode(pairs)

    def without(name: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in base.items() if k != name]

    return {
        "no client_id": url(without("client_id")),
        "an unknown client_id": url([*without("client_id"), ("client_id", "nope")]),
        "a repeated client_id": url([*base.items(), ("client_id", web.client_id)]),
        "a repeated redirect_uri": url([*base.items(), ("redirect_uri", "https://evil.example/")]),
        "an unregistered redirect_uri": url(
            [*without("redirect_uri"), ("redirect_uri", "https://evil.example/callback")]
        ),
        "a redirect_uri differing by a trailing slash": url(
            [*without("redirect_uri"), ("redirect_uri", REDIRECT + "/")]
        ),
    }


UNTRUSTED = [
    "no client_id",
    "an unknown client_id",
    "a repeated client_id",
    "a repeated redirect_uri",
    "an unregistered redirect_uri",
    "a redirect_uri differing by a trailing slash",
]


@pytest.mark.parametrize("case", UNTRUSTED, ids=UNTRUSTED)
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed in", "signed out"])
async def test_an_untrusted_client_or_redirect_gets_a_400_page_and_no_redirect(
    client: httpx.AsyncClient, web: Client, case: str, signed_in: bool
) -> None:
    if signed_in:
        await sign_up(client)
    response = await client.get(untrusted_cases(web)[case])
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "This authorization request cannot be used" in response.text
    assert "evil.example" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    # A signed-in person keeps their header (and its sign-out button).
    assert ("ann@example.com" in response.text) is signed_in


async def test_no_redirect_uri_where_the_app_has_several_is_a_400_page(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    several = await register(app, redirect_uris=(REDIRECT, "https://client.example/other"))
    await sign_up(client)
    response = await client.get(authorize_url(several, redirect_uri=None))
    assert response.status_code == 400
    assert "location" not in response.headers


# --- Errors sent back to the client, with state and iss ----------------------------------

REDIRECTED = [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "admin"}, "invalid_scope"),
    ({"code_challenge": CHALLENGE}, "invalid_request"),
    ({"code_challenge": CHALLENGE, "code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
]
REDIRECTED_IDS = [
    "the implicit grant is unsupported_response_type",
    "no response_type is invalid_request",
    "an unknown scope is invalid_scope",
    "a challenge without a method is invalid_request",
    "the plain method is invalid_request",
    "a malformed challenge is invalid_request",
]


@pytest.mark.parametrize(("changes", "error"), REDIRECTED, ids=REDIRECTED_IDS)
async def test_other_errors_go_back_to_the_client_with_state_and_iss(
    client: httpx.AsyncClient, web: Client, changes: dict[str, str | None], error: str
) -> None:
    await sign_up(client)
    response = await client.get(authorize_url(web, **changes))
    target, params = answer(response)
    assert target == REDIRECT
    assert params["error"] == error
    assert params["error_description"]
    assert params["state"] == "st-123"
    assert params["iss"] == ISSUER
    assert response.headers["cache-control"] == "no-store"


async def test_a_repeated_parameter_other_than_client_or_redirect_is_redirected(
    client: httpx.AsyncClient, web: Client
) -> None:
    await sign_up(client)
    response = await client.get(authorize_url(web) + "&scope=read&scope=write")
    _, params = answer(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-123" and params["iss"] == ISSUER


async def test_a_public_client_without_pkce_is_invalid_request(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    native = await register(app, redirect_uris=("http://127.0.0.1/callback",), public=True)
    await sign_up(client)
    response = await client.get(
        authorize_url(native, redirect_uri="http://127.0.0.1:4000/callback")
    )
    target, params = answer(response)
    assert target == "http://127.0.0.1:4000/callback"
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]
    assert params["state"] == "st-123" and params["iss"] == ISSUER


async def test_a_bad_request_is_answered_before_asking_a_signed_out_user_to_log_in(
    client: httpx.AsyncClient, web: Client
) -> None:
    target, params = answer(await client.get(authorize_url(web, scope="admin")))
    assert target == REDIRECT and params["error"] == "invalid_scope"


# --- The consent POST: CSRF, and nothing trusted from the GET ----------------------------


@pytest.mark.parametrize(
    "token", [None, "forged"], ids=["without a CSRF token", "with a forged CSRF token"]
)
async def test_the_consent_post_needs_its_csrf_token(
    client: httpx.AsyncClient, app: FastAPI, web: Client, token: str | None
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    fields = {**hidden_fields(page.text), "decision": "approve"}
    fields.pop("csrf_token")
    if token is not None:
        fields["csrf_token"] = token
    response = await client.post("/oauth/authorize", data=fields)
    assert response.status_code == 403
    assert "location" not in response.headers
    assert await count(app, grants) == 0


async def test_a_cross_site_post_with_another_browsers_token_is_refused(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    attacker = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(attacker, email="mallory@example.com")
    forged = await attacker.get(authorize_url(web))
    await sign_up(client)
    response = await client.post(
        "/oauth/authorize", data={**hidden_fields(forged.text), "decision": "approve"}
    )
    assert response.status_code == 403
    assert await count(app, grants) == 0


async def test_a_forged_post_with_another_redirect_uri_is_refused_without_redirect(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    response = await decide(client, page, "approve", redirect_uri="https://evil.example/callback")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert await count(app, grants) == 0


async def test_a_forged_post_with_a_repeated_redirect_uri_is_refused_without_redirect(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    data = [
        *hidden_fields(page.text).items(),
        ("redirect_uri", "https://evil.example/"),
        ("decision", "approve"),
    ]
    response = await client.post(
        "/oauth/authorize",
        content=urlencode(data),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert await count(app, grants) == 0


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"scope": "admin"}, "invalid_scope"),
        ({"code_challenge_method": "plain", "code_challenge": CHALLENGE}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
    ids=[
        "a forged unknown scope is invalid_scope",
        "a forged plain challenge is invalid_request",
        "a forged response type is unsupported_response_type",
    ],
)
async def test_the_post_validates_every_field_again(
    client: httpx.AsyncClient, app: FastAPI, web: Client, changes: dict[str, str], error: str
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web))
    _, params = answer(await decide(client, page, "approve", **changes))
    assert params["error"] == error
    assert params["state"] == "st-123" and params["iss"] == ISSUER
    assert await count(app, grants) == 0


async def test_a_post_with_a_forged_public_client_without_pkce_is_refused(
    client: httpx.AsyncClient, app: FastAPI, web: Client
) -> None:
    native = await register(app, redirect_uris=(REDIRECT,), public=True)
    await sign_up(client)
    page = await client.get(authorize_url(web))
    _, params = answer(await decide(client, page, "approve", client_id=native.client_id))
    assert params["error"] == "invalid_request"
    assert await count(app, grants) == 0


async def test_a_post_after_the_session_ended_logs_in_again_and_comes_back(
    client: httpx.AsyncClient, web: Client, clock: Clock
) -> None:
    await sign_up(client)
    page = await client.get(authorize_url(web, scope="write"))
    client.cookies.delete("paced_session")
    response = await decide(client, page, "approve")
    assert response.status_code == 303
    login = response.headers["location"]
    assert login.startswith("/login?next=")
    next_path = dict(parse_qsl(urlsplit(login).query))["next"]
    assert next_path.startswith("/oauth/authorize?")
    assert dict(parse_qsl(urlsplit(next_path).query)) == {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": REDIRECT,
        "scope": "write",
        "state": "st-123",
    }


async def test_get_and_post_without_parameters_are_400_pages(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    assert (await client.get("/oauth/authorize")).status_code == 400
    page = await client.get("/login")
    response = await client.post("/oauth/authorize", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 400


# --- Loopback ports that are not ports (audit finding 7) ---------------------------------

BAD_PORTS = [
    ("\u0661\u0662", "Arabic-Indic digits"),
    ("\uff11\uff12", "fullwidth digits"),
    ("\u00b2", "a superscript two"),
    ("0", "port zero"),
    ("65536", "a port past 65535"),
]


@pytest.mark.parametrize(
    "registered",
    ["http://127.0.0.1/callback", "http://127.0.0.1:8080/callback"],
    ids=["registered without a port", "registered with a port"],
)
@pytest.mark.parametrize("port", [p for p, _ in BAD_PORTS], ids=[i for _, i in BAD_PORTS])
@pytest.mark.parametrize("confidential", [True, False], ids=["confidential", "public"])
async def test_a_loopback_redirect_whose_port_is_not_a_port_gets_a_400_page(
    client: httpx.AsyncClient, app: FastAPI, registered: str, port: str, confidential: bool
) -> None:
    native = await register(app, redirect_uris=(registered,), public=not confidential)
    await sign_up(client)
    with_pkce = {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
    bad = f"http://127.0.0.1:{port}/callback"
    response = await client.get(authorize_url(native, redirect_uri=bad, **with_pkce))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "This authorization request cannot be used" in response.text
    # The consent form posted anyway (forged) is refused the same way, granting nothing.
    page = await client.get(authorize_url(native, redirect_uri=registered, **with_pkce))
    forged = await decide(client, page, "approve", redirect_uri=bad)
    assert forged.status_code == 400
    assert "location" not in forged.headers
    assert await count(app, grants) == 0


# --- A remembered approval holds for its redirect URI only (audit finding 8) -------------

LOOPBACK = "http://127.0.0.1/callback"
BINDING = [
    ((REDIRECT,), REDIRECT, "https://client.example/cb2", True),
    ((LOOPBACK,), "http://127.0.0.1:50001/callback", "http://127.0.0.1:50002/callback", True),
    ((LOOPBACK,), "http://127.0.0.1:50001/callback", "http://127.0.0.1/callback", True),
    ((REDIRECT,), REDIRECT, REDIRECT, False),
    ((LOOPBACK,), "http://127.0.0.1:50001/callback", "http://127.0.0.1:50001/callback", False),
    ((REDIRECT,), None, REDIRECT, False),
]
BINDING_IDS = [
    "a redirect URI registered after the approval shows the screen again",
    "a confidential loopback client on another port shows the screen again",
    "a confidential loopback client without the approved port shows the screen again",
    "the same https redirect URI skips the screen",
    "the same loopback redirect URI and port skips the screen",
    "an approval for the only URI, omitted, covers that URI sent",
]


@pytest.mark.parametrize(
    ("registered", "approved_at", "asked_at", "shows_screen"), BINDING, ids=BINDING_IDS
)
async def test_a_remembered_approval_is_bound_to_its_redirect_uri(
    client: httpx.AsyncClient,
    app: FastAPI,
    registered: tuple[str, ...],
    approved_at: str | None,
    asked_at: str,
    shows_screen: bool,
) -> None:
    web = await register(app, redirect_uris=registered)
    await sign_up(client)
    answer(
        await decide(
            client, await client.get(authorize_url(web, redirect_uri=approved_at)), "approve"
        )
    )
    # The owner adds a redirect URI after the approval (RFC 9700 §4.1.3 matching still holds).
    async with begin(engine_of(app)) as connection:
        await connection.execute(
            apps.update()
            .where(apps.c.id == web.app_id)
            .values(redirect_uris=json.dumps([*registered, "https://client.example/cb2"]))
        )
    again = await client.get(authorize_url(web, redirect_uri=asked_at, state="second"))
    if shows_screen:
        assert again.status_code == 200
        assert ">Authorize</button>" in again.text
        assert await count(app, grants) == 1
    else:
        target, params = answer(again)
        assert target == asked_at and params["state"] == "second"
        assert await count(app, grants) == 2
