"""Sign-up, log-in, log-out, sessions and CSRF, through the app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from paced.storage.models import sessions
from tests.conftest import Clock
from tests.helpers import connect, csrf_token, sign_up, submit


async def session_count(client: httpx.AsyncClient) -> int:
    engine = client._transport.app.paced.database  # type: ignore[attr-defined]
    async with connect(engine) as connection:
        return (await connection.execute(select(func.count()).select_from(sessions))).scalar_one()


async def test_signup_signs_in_and_lands_on_developer_settings(client: httpx.AsyncClient) -> None:
    response = await sign_up(client)
    assert response.headers["location"] == "/settings/developer"
    cookie = response.headers.get_list("set-cookie")
    session = next(c for c in cookie if c.startswith("paced_session="))
    assert "HttpOnly" in session and "samesite=lax" in session.lower()
    assert "Secure" not in session  # the base URL is http
    home = await client.get("/")
    assert home.headers["location"] == "/settings/developer"


async def test_signup_rejects_each_bad_field_beside_it(client: httpx.AsyncClient) -> None:
    response = await submit(client, "/signup", email="not-an-email", password="short", name="")
    assert response.status_code == 400
    assert "Enter an email address like name@example.com." in response.text
    assert "Use at least 8 characters." in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="not-an-email"' in response.text


async def test_emails_are_unique_case_insensitively(client: httpx.AsyncClient) -> None:
    await sign_up(client, email="Ann@Example.com")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    response = await submit(other, "/signup", email="ann@example.COM", password="x" * 12, name="")
    assert response.status_code == 400
    assert "already exists" in response.text


async def test_login_with_any_case_of_the_email(client: httpx.AsyncClient) -> None:
    await sign_up(client, email="Ann@Example.com")
    client.cookies.clear()
    response = await submit(
        client, "/login", email="ANN@example.com", password="correct horse battery"
    )
    assert response.status_code == 303
    assert (await client.get("/")).headers["location"] == "/settings/developer"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.com", "wrong password"), ("nobody@example.com", "correct horse battery")],
    ids=["a wrong password", "an unknown email"],
)
async def test_failed_login_says_one_generic_thing(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    await sign_up(client)
    client.cookies.clear()
    response = await submit(client, "/login", email=email, password=password)
    assert response.status_code == 400
    assert "Incorrect email or password." in response.text
    assert "paced_session=" not in response.headers.get("set-cookie", "")


async def test_login_gives_a_new_session_id(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    first = client.cookies["paced_session"]
    response = await submit(
        client, "/login", email="ann@example.com", password="correct horse battery"
    )
    assert response.status_code == 303
    assert client.cookies["paced_session"] != first
    assert await session_count(client) == 1  # the old one is gone


async def test_logout_deletes_the_session_row(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    stolen = client.cookies["paced_session"]
    page = await client.get("/login")
    response = await client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert await session_count(client) == 0
    # The old cookie, replayed, signs nobody in.
    client.cookies.set("paced_session", stolen)
    assert (await client.get("/")).headers["location"] == "/login"


async def test_session_expires_after_fourteen_idle_days(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    clock.advance(days=13)
    assert (await client.get("/")).headers["location"] == "/settings/developer"
    clock.advance(days=13)  # seen 13 days ago: still alive
    assert (await client.get("/")).headers["location"] == "/settings/developer"
    clock.advance(days=14, seconds=1)
    assert (await client.get("/")).headers["location"] == "/login"


@pytest.mark.parametrize(
    "token", [None, "", "forged"], ids=["no token", "an empty token", "a forged token"]
)
async def test_post_without_a_valid_csrf_token_is_refused(
    client: httpx.AsyncClient, token: str | None
) -> None:
    await client.get("/signup")
    data = {"email": "ann@example.com", "password": "correct horse battery"}
    if token is not None:
        data["csrf_token"] = token
    response = await client.post("/signup", data=data)
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert await session_count(client) == 0


async def test_csrf_token_of_another_browser_is_refused(client: httpx.AsyncClient) -> None:
    attacker = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    token = csrf_token((await attacker.get("/signup")).text)
    await client.get("/signup")
    response = await client.post(
        "/signup", data={"csrf_token": token, "email": "a@example.com", "password": "x" * 10}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/settings/account", "/settings/account"),
        ("/oauth/authorize?client_id=x&state=y", "/oauth/authorize?client_id=x&state=y"),
        ("https://evil.example/", "/settings/developer"),
        ("//evil.example/", "/settings/developer"),
        ("/\\evil.example/", "/settings/developer"),
        ("javascript:alert(1)", "/settings/developer"),
    ],
    ids=[
        "a path of ours",
        "a path with a query",
        "another origin",
        "a scheme-relative URL",
        "a backslash trick",
        "a javascript URL",
    ],
)
async def test_next_leads_only_to_our_own_paths(
    client: httpx.AsyncClient, next_path: str, landing: str
) -> None:
    await sign_up(client)
    client.cookies.delete("paced_session")
    response = await submit(
        client,
        "/login",
        email="ann@example.com",
        password="correct horse battery",
        next=next_path,
    )
    assert response.headers["location"] == landing


async def test_pages_forbid_framing_and_sniffing(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_unknown_page_is_a_plain_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_a_signed_in_person_keeps_their_header_on_a_404(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "ann@example.com" in response.text
    assert ">Sign out</button>" in response.text


# --- Look-alike accounts (audit finding 5) -----------------------------------------------


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("\uff4bate@example.com", "already exists"),
        ("kate@example.com\u200b", "Remove the control characters"),
        ("ka\u202ete@example.com", "Remove the control characters"),
    ],
    ids=[
        "a fullwidth k is the same account",
        "a trailing zero-width space is refused",
        "a right-to-left override inside is refused",
    ],
)
async def test_a_lookalike_of_an_existing_address_makes_no_second_account(
    client: httpx.AsyncClient, email: str, says: str
) -> None:
    await sign_up(client, email="kate@example.com")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    response = await submit(other, "/signup", email=email, password="x" * 12, name="")
    assert response.status_code in (400, 409)
    assert says in response.text
    assert "paced_session=" not in response.headers.get("set-cookie", "")


async def test_login_with_a_fullwidth_lookalike_finds_the_same_account(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, email="kate@example.com")
    client.cookies.clear()
    response = await submit(
        client, "/login", email="\uff4bate@example.com", password="correct horse battery"
    )
    assert response.status_code == 303
    assert "kate@example.com" in (await client.get("/settings/account")).text
