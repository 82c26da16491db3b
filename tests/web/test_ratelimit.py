"""Rate limits (docs/reference.md §6) over HTTP: brute force gets 429 with `Retry-After` in the shape of
its endpoint; only failures count; counts are shared through Redis."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI

from paced.settings import Settings
from paced.storage.database import Database
from paced.storage.security_log import AuditQuery
from paced.web.app import create_app
from tests.conftest import Clock
from tests.helpers import sign_up, submit
from tests.oauth_helpers import Client, Person, add_client, add_code, add_user
from tests.web.test_oauth_token import basic, exchange_form

PASSWORD = "correct horse battery"
REDIS_URL = "redis://127.0.0.1:6379/0"

MakeApp = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def make_app(settings: Settings, clock: Clock) -> AsyncIterator[MakeApp]:
    """Apps on the test's database, each with its own settings changes."""
    made: list[FastAPI] = []

    async def make(**changes: object) -> FastAPI:
        app = create_app(settings.model_copy(update=changes), clock=clock)
        made.append(app)
        return app

    yield make
    for app in made:
        await app.paced.rate_limits.aclose()
        await app.paced.database.close()


@asynccontextmanager
async def browser(app: FastAPI, ip: str = "198.51.100.1") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def log_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await submit(http, "/login", email=email, password=password)


def engine_of(app: FastAPI) -> Database:
    engine: Database = app.paced.database
    return engine


def assert_limited_page(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in response.text


# --- Sign-in ----------------------------------------------------------------------------


async def sign_in_failures(app: FastAPI) -> list[str]:
    async with engine_of(app).reading() as store:
        return [e.ip async for e, _ in store.audit(AuditQuery(event="sign_in_failed"))]


async def test_ten_failed_sign_ins_lock_the_account_for_new_browsers_but_not_the_owners(
    make_app: MakeApp,
) -> None:
    # Audit finding 3: ten failures from anywhere used to lock the owner out too, for as
    # long as a stranger kept guessing.
    app = await make_app()  # the defaults: 10 failures per account in 10 minutes
    async with browser(app, "198.51.100.1") as owner:
        await sign_up(owner, password=PASSWORD)
        await submit(owner, "/settings/account", "/logout")
        async with browser(app, "203.0.113.9") as attacker:
            for _ in range(10):
                response = await log_in(attacker, "ann@example.com", "wrong password!")
                assert response.status_code == 400
            assert_limited_page(await log_in(attacker, "ANN@example.com", "another guess"))
            # Even with the right password, a browser that never signed in must wait:
            # otherwise the limit would not stop a guess from succeeding.
            limited = await log_in(attacker, "ann@example.com", PASSWORD)
            assert_limited_page(limited)
            assert "Try again in 10 minutes" in limited.text
        # The owner's browser signed in before: its device cookie exempts it.
        assert (await log_in(owner, "ann@example.com", PASSWORD)).status_code == 303
    async with browser(app, "198.51.100.1") as someone:
        # Another account is untouched.
        await sign_up(someone, email="bob@example.com", password=PASSWORD)
        someone.cookies.clear()
        assert (await log_in(someone, "bob@example.com", PASSWORD)).status_code == 303
    # The brute force left its trace: ten failed sign-ins under the account; the refused
    # attempts were not even checked, so they are not failures.
    assert await sign_in_failures(app) == ["203.0.113.9"] * 10


async def test_a_device_cookie_has_a_limit_of_its_own(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_login_per_account="3/10 minutes")
    async with browser(app) as thief:  # a browser whose device cookie an attacker holds
        await sign_up(thief, password=PASSWORD)
        await submit(thief, "/settings/account", "/logout")
        for _ in range(3):
            assert (await log_in(thief, "ann@example.com", "guess")).status_code == 400
        assert_limited_page(await log_in(thief, "ann@example.com", "guess"))
    async with browser(app) as stranger:  # the account's own count is untouched
        assert (await log_in(stranger, "ann@example.com", PASSWORD)).status_code == 303


async def test_a_device_cookie_of_another_account_or_forged_exempts_nothing(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_login_per_account="2/10 minutes")
    async with browser(app) as http:
        await sign_up(http, email="bob@example.com", password=PASSWORD)
        bobs_cookie = http.cookies["paced_device"]
        await submit(http, "/settings/account", "/logout")
        await sign_up(http, email="ann@example.com", password=PASSWORD)
    async with browser(app) as attacker:
        attacker.cookies.set("paced_device", bobs_cookie)
        for _ in range(2):
            assert (await log_in(attacker, "ann@example.com", "guess")).status_code == 400
        assert_limited_page(await log_in(attacker, "ann@example.com", PASSWORD))
    # A cookie made without the secret key, claiming Ann's account.
    forged = base64.urlsafe_b64encode(b"user_forged nonce").decode().rstrip("=")
    async with browser(app) as attacker:
        attacker.cookies.set("paced_device", forged + "." + bobs_cookie.partition(".")[2])
        assert_limited_page(await log_in(attacker, "ann@example.com", PASSWORD))


async def test_concurrent_wrong_passwords_cannot_exceed_the_limit(make_app: MakeApp) -> None:
    # Audit finding 2: nothing was counted until the password check ended, so thirty
    # guesses sent together were all checked against a limit of ten.
    app = await make_app(rate_limit_login_per_account="10/10 minutes")
    async with browser(app) as http:
        await sign_up(http, password=PASSWORD)
    async with browser(app, "203.0.113.9") as attacker:
        responses = await asyncio.gather(
            *(log_in(attacker, "ann@example.com", f"guess {n}") for n in range(30))
        )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [400] * 10 + [429] * 20
    assert len(await sign_in_failures(app)) == 10


async def test_the_lock_lifts_when_the_window_has_room_again(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_login_per_account="2/1 second")
    async with browser(app) as http:
        await sign_up(http, password=PASSWORD)
        http.cookies.clear()
        for _ in range(2):
            assert (await log_in(http, "ann@example.com", "wrong password!")).status_code == 400
        assert (await log_in(http, "ann@example.com", PASSWORD)).status_code == 429
        await asyncio.sleep(1.1)
        assert (await log_in(http, "ann@example.com", PASSWORD)).status_code == 303


async def test_successful_sign_ins_do_not_count(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_login_per_account="2/10 minutes")
    async with browser(app) as http:
        await sign_up(http, password=PASSWORD)
        for _ in range(4):
            http.cookies.clear()
            assert (await log_in(http, "ann@example.com", PASSWORD)).status_code == 303


async def test_failures_from_one_address_across_accounts_are_limited_per_address(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_login_per_ip="5/10 minutes")
    async with browser(app, "203.0.113.9") as attacker:
        for n in range(5):
            response = await log_in(attacker, f"victim{n}@example.com", "guess")
            assert response.status_code == 400
        assert_limited_page(await log_in(attacker, "victim99@example.com", "guess"))
    async with browser(app, "198.51.100.7") as someone_else:
        assert (await log_in(someone_else, "victim99@example.com", "guess")).status_code == 400


async def test_an_ipv6_address_is_counted_by_its_64(make_app: MakeApp) -> None:
    # Audit finding 9: each address of a /64 had a count of its own, and whoever has one
    # address has the whole /64.
    app = await make_app(rate_limit_login_per_ip="3/10 minutes")
    for n in range(3):
        async with browser(app, f"2001:db8:1:2::{n + 1:x}") as attacker:
            assert (await log_in(attacker, f"v{n}@example.com", "guess")).status_code == 400
    async with browser(app, "2001:db8:1:2:ffff:ffff:ffff:ffff") as attacker:
        assert_limited_page(await log_in(attacker, "v9@example.com", "guess"))
    async with browser(app, "2001:db8:1:3::1") as neighbour:  # the next /64
        assert (await log_in(neighbour, "v9@example.com", "guess")).status_code == 400


async def test_wrong_current_passwords_are_limited_and_logged(make_app: MakeApp) -> None:
    # Audit finding 4: a stolen session could try current passwords without limit, and
    # nothing was logged.
    app = await make_app(rate_limit_login_per_account="3/10 minutes")
    async with browser(app, "203.0.113.9") as thief:
        await sign_up(thief, password=PASSWORD)
        for _ in range(3):
            response = await submit(
                thief,
                "/settings/account",
                "/settings/account/password",
                current_password="guess",
                new_password="a new passphrase",
            )
            assert response.status_code == 400
            assert "not your current password" in response.text
        limited = await submit(
            thief,
            "/settings/account",
            "/settings/account/password",
            current_password=PASSWORD,
            new_password="a new passphrase",
        )
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "Too many failed sign-ins" in limited.text
    async with engine_of(app).reading() as store:
        events = [e async for e, _ in store.audit(AuditQuery(event="password_change_failed"))]
    assert [e.ip for e in events] == ["203.0.113.9"] * 3


async def test_limits_can_be_turned_off(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_login_per_account="off", rate_limit_login_per_ip="off")
    async with browser(app) as http:
        for _ in range(12):
            assert (await log_in(http, "ann@example.com", "guess")).status_code == 400


# --- Sign-up ----------------------------------------------------------------------------


async def test_sign_ups_per_address_are_limited_and_typos_do_not_count(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_signup_per_ip="2/hour")
    async with browser(app) as http:
        for _ in range(3):  # a form with mistakes makes no account, and counts nothing
            bad = await submit(http, "/signup", email="not an email", password="x", name="")
            assert bad.status_code == 400
        await sign_up(http, email="one@example.com")
        http.cookies.clear()
        taken = await submit(http, "/signup", email="one@example.com", password=PASSWORD, name="")
        assert taken.status_code == 400  # a taken email counts: it tells a prober something
        limited = await submit(
            http, "/signup", email="three@example.com", password=PASSWORD, name=""
        )
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 60
        assert "Too many sign-ups" in limited.text


# --- Client authentication and the token endpoint ------------------------------------------


@pytest.fixture
async def world(make_app: MakeApp) -> tuple[FastAPI, Person, Client]:
    app = await make_app()
    ann = await add_user(engine_of(app))
    return app, ann, await add_client(engine_of(app), ann)


def assert_limited_json(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "rate_limited" and body["error_description"]


def wrong_secret() -> str:
    from paced.core import token_format

    return token_format.generate(token_format.CLIENT_SECRET)


async def test_a_stranger_cannot_lock_a_client_out_with_wrong_secrets(
    world: tuple[FastAPI, Person, Client],
) -> None:
    # Audit finding 1: failures were counted per claimed client id and checked before
    # authentication, so twenty junk posts locked the real client out of all three
    # endpoints.
    app, ann, zapier = world
    code = await add_code(engine_of(app), zapier, ann)
    async with browser(app, "203.0.113.9") as attacker:
        for _ in range(20):
            response = await attacker.post(
                "/oauth/token",
                data=exchange_form(code),
                headers={"Authorization": basic(zapier.client_id, wrong_secret())},
            )
            assert response.status_code == 401
        # The client id's failures are answered once too many: on failing requests only.
        assert_limited_json(
            await attacker.post(
                "/oauth/introspect",
                data={"token": "x"},
                headers={"Authorization": basic(zapier.client_id, wrong_secret())},
            )
        )
    # The client with its right secret is never refused by its client id's failures.
    async with browser(app, "198.51.100.2") as integration:
        for endpoint in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
            response = await integration.post(
                endpoint, data={**exchange_form(code), "token": "x", **zapier.form()}
            )
            assert response.status_code == 200, (endpoint, response.text)


async def test_a_stranger_cannot_lock_a_public_client_out_with_junk_secrets(
    make_app: MakeApp,
) -> None:
    app = await make_app()
    ann = await add_user(engine_of(app))
    cli = await add_client(engine_of(app), ann, public=True)
    async with browser(app, "203.0.113.9") as attacker:
        for _ in range(20):
            junk = {"token": "x", "client_id": cli.client_id, "client_secret": wrong_secret()}
            assert (await attacker.post("/oauth/revoke", data=junk)).status_code == 401
    async with browser(app, "198.51.100.2") as integration:
        response = await integration.post(
            "/oauth/revoke", data={"token": "x", "client_id": cli.client_id}
        )
        assert response.status_code == 200


async def test_failed_client_authentications_from_one_address_are_limited_per_address(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_client_auth_per_ip="3/minute")
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    async with browser(app, "203.0.113.9") as attacker:
        for n in range(3):
            response = await attacker.post(
                "/oauth/introspect",
                data={"token": "x", "client_id": f"guess{n}", "client_secret": wrong_secret()},
            )
            assert response.status_code == 401
        assert_limited_json(
            await attacker.post("/oauth/revoke", data={"token": "x", **zapier.form()})
        )
    async with browser(app, "198.51.100.2") as integration:
        answer = await integration.post("/oauth/revoke", data={"token": "x", **zapier.form()})
        assert answer.status_code == 200


async def test_token_requests_are_limited_per_client_by_the_tokens_it_was_issued(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_token_per_client="3/minute", rate_limit_token_failure_cost=3)
    ann = await add_user(engine_of(app))
    zapier, other = await add_client(engine_of(app), ann), await add_client(engine_of(app), ann)
    bad_grant = {"grant_type": "refresh_token", "refresh_token": "pt_refresh_nope"}
    async with browser(app, "203.0.113.9") as stranger:
        # Failed requests naming the client, whoever sends them, spend none of its
        # requests: anyone can claim a client id.
        for _ in range(5):
            failed = await stranger.post("/oauth/token", data={**bad_grant, **zapier.form()})
            assert failed.status_code == 400
    async with browser(app) as http:
        for _ in range(3):
            code = await add_code(engine_of(app), zapier, ann)
            response = await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))
            assert response.status_code == 200
        code = await add_code(engine_of(app), zapier, ann)
        assert_limited_json(
            await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))
        )
        # Another client is counted apart; and revocation is not a token request.
        code = await add_code(engine_of(app), other, ann)
        response = await http.post("/oauth/token", data=exchange_form(code, **other.form()))
        assert response.status_code == 200
        revoked = await http.post("/oauth/revoke", data={"token": "x", **zapier.form()})
        assert revoked.status_code == 200


async def test_failed_token_requests_weigh_more_for_their_address(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_token_per_ip="6/minute", rate_limit_token_failure_cost=3)
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    bad_grant = {"grant_type": "refresh_token", "refresh_token": "pt_refresh_nope"}
    async with browser(app, "203.0.113.9") as http:
        for _ in range(2):  # two failures weigh six
            failed = await http.post("/oauth/token", data={**bad_grant, **zapier.form()})
            assert failed.status_code == 400
        assert_limited_json(await http.post("/oauth/token", data={**bad_grant, **zapier.form()}))


async def test_token_requests_are_limited_per_address(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_token_per_ip="2/minute", rate_limit_token_failure_cost=1)
    ann = await add_user(engine_of(app))
    zapier = await add_client(engine_of(app), ann)
    code = await add_code(engine_of(app), zapier, ann)
    async with browser(app, "203.0.113.9") as http:
        for n in range(2):
            form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": f"c{n}"}
            assert (await http.post("/oauth/token", data=form)).status_code == 401
        assert_limited_json(
            await http.post("/oauth/token", data=exchange_form(code, **zapier.form()))
        )
    async with browser(app, "198.51.100.2") as integration:
        response = await integration.post("/oauth/token", data=exchange_form(code, **zapier.form()))
        assert response.status_code == 200


# --- Bearer ---------------------------------------------------------------------------------


async def test_an_address_sending_invalid_tokens_is_refused_and_valid_tokens_cost_nothing(
    make_app: MakeApp,
) -> None:
    app = await make_app(rate_limit_bearer_failures_per_ip="3/minute")
    from tests.token_rows import add_personal_token
    from tests.token_rows import add_user as add_token_user

    clock = app.paced.clock
    valid = (
        await add_personal_token(
            engine_of(app), await add_token_user(engine_of(app), clock()), clock()
        )
    ).secret
    gate = app.paced.rate_limits.bearer
    async with browser(app, "198.51.100.3") as honest:
        for _ in range(20):
            response = await honest.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"})
            assert response.status_code == 200
    assert not gate.blocking  # successes counted nothing
    unknown = "pt_secret_" + "A" * 36
    async with browser(app, "203.0.113.9") as attacker:
        for _ in range(4):  # three fit; the fourth fills the window and is still answered
            response = await attacker.get(
                "/api/v1/me", headers={"Authorization": f"Bearer {unknown}"}
            )
            assert response.status_code == 401
        refused = await attacker.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"})
        assert_limited_json(refused)
    async with browser(app, "198.51.100.3") as honest:
        response = await honest.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"})
        assert response.status_code == 200


# --- Shared counters ------------------------------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own in the local Redis, its keys deleted afterwards."""
    prefix = f"paced-test-{secrets.token_hex(6)}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_with_redis_every_node_shares_the_count(make_app: MakeApp, redis_prefix: str) -> None:
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}
    node_a = await make_app(**shared, rate_limit_login_per_account="3/10 minutes")
    node_b = await make_app(**shared, rate_limit_login_per_account="3/10 minutes")
    async with browser(node_a) as http:
        await sign_up(http, password=PASSWORD)
    async with browser(node_a, "203.0.113.9") as attacker:
        for _ in range(3):
            assert (await log_in(attacker, "ann@example.com", "guess")).status_code == 400
    async with browser(node_b) as http:
        assert_limited_page(await log_in(http, "ann@example.com", PASSWORD))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert keys and not any(b"ann@example.com" in key for key in keys)  # emails stay out


async def test_with_redis_concurrent_guesses_on_two_nodes_stay_within_the_limit(
    make_app: MakeApp, redis_prefix: str
) -> None:
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}
    nodes = [await make_app(**shared, rate_limit_login_per_account="5/10 minutes") for _ in "ab"]
    async with browser(nodes[0]) as http:
        await sign_up(http, password=PASSWORD)
        for _ in range(4):  # successes are no failures on Redis either
            http.cookies.clear()
            assert (await log_in(http, "ann@example.com", PASSWORD)).status_code == 303
    async with browser(nodes[0], "203.0.113.9") as a, browser(nodes[1], "203.0.113.9") as b:
        responses = await asyncio.gather(
            *(log_in((a, b)[n % 2], "ann@example.com", f"guess {n}") for n in range(20))
        )
    assert sorted(r.status_code for r in responses) == [400] * 5 + [429] * 15
    assert len(await sign_in_failures(nodes[0])) == 5


async def test_without_redis_limits_fail_open_rather_than_lock_everyone_out(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every counter call fails at once.
    app = await make_app(redis_url="redis://127.0.0.1:1/0", rate_limit_login_per_account="1/hour")
    async with browser(app) as http:
        await sign_up(http, password=PASSWORD)
        http.cookies.clear()
        for _ in range(3):
            assert (await log_in(http, "ann@example.com", "guess")).status_code == 400
        assert (await log_in(http, "ann@example.com", PASSWORD)).status_code == 303
    assert "rate limits are not enforced" in caplog.text


# --- Settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kept"),
    [("10/10 minutes", "10/10 minutes"), (" 5 per hour ", "5 per hour"), ("OFF", "off"), ("0", "off")],
    ids=["a rate", "in words", "off in any case", "zero is off"],
)  # fmt: skip
def test_a_limit_is_a_rate_or_off(value: str, kept: str) -> None:
    settings = Settings(_env_file=None, rate_limit_login_per_ip=value)
    assert settings.rate_limit_login_per_ip == kept


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_limit_login_per_account": "ten a minute"},
        {"rate_limit_token_failure_cost": 0},
        {"redis_url": "localhost:6379"},
    ],
    ids=["a limit that is no rate", "a failure that costs nothing", "a Redis URL without scheme"],
)
def test_bad_limit_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings(_env_file=None, **changes)  # type: ignore[arg-type]


async def test_a_device_waiting_for_its_answer_is_not_a_failed_token_request(
    make_app: MakeApp, clock: Clock
) -> None:
    # Five failures of cost 10 would be 50 requests: far over this limit of 20.
    app = await make_app(rate_limit_token_per_ip="20/minute", rate_limit_token_failure_cost=10)
    engine = app.paced.database
    cli = await add_client(engine, await add_user(engine), public=True, device_flow=True)
    async with browser(app) as http:
        started = await http.post("/oauth/device_authorization", data=cli.form())
        poll = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started.json()["device_code"],
            **cli.form(),
        }
        for _ in range(5):
            answer = await http.post("/oauth/token", data=poll)
            assert answer.json()["error"] == "authorization_pending"
            clock.advance(seconds=5)
        # A real failure still weighs its cost: two of them fill the window.
        failing = {**poll, "device_code": "unknown"}
        assert (await http.post("/oauth/token", data=failing)).status_code == 400
        assert (await http.post("/oauth/token", data=failing)).status_code == 400
        assert (await http.post("/oauth/token", data=poll)).status_code == 429
