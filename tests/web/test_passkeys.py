"""Passkeys through the pages, answered by a software authenticator whose signatures the
server checks for real (tests/soft_authenticator.py): registering one, using it as the
second step and to sign in alone, and the checks that refuse a bad answer."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit
from tests.soft_authenticator import SoftAuthenticator, b64url, options_in

PASSWORD = "correct horse battery"
ORIGIN = "http://testserver"


def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url=ORIGIN)


async def ceremony(client: httpx.AsyncClient, start: str, page: str, **fields: str) -> str:
    """Press the button that starts a passkey ceremony; the ceremony page it leads to."""
    started = await submit(client, start, page, **fields)
    assert started.status_code == 303, started.text
    assert started.headers["location"].split("?")[0] == page
    shown = await client.get(started.headers["location"])
    assert shown.status_code == 200, shown.text
    return shown.text


async def add_passkey(
    client: httpx.AsyncClient,
    authenticator: SoftAuthenticator,
    name: str = "Laptop",
    password: str = PASSWORD,
) -> httpx.Response:
    page = await ceremony(client, "/settings/security", "/settings/security/passkeys/new")
    options = options_in(page)
    assert options["rp"]["id"] == "testserver"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    return await client.post(
        "/settings/security/passkeys",
        data={
            "csrf_token": csrf_token(page),
            "credential": authenticator.create(options),
            "name": name,
            "password": password,
        },
    )


async def sign_in_with_passkey(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, **claims: int
) -> httpx.Response:
    page = await ceremony(client, "/login", "/login/passkey", next="/settings/security")
    options = options_in(page)
    assert options["allowCredentials"] == []  # discoverable: no email needed
    return await client.post(
        "/login/passkey/verify",
        data={
            "csrf_token": csrf_token(page),
            "credential": authenticator.get(options, **claims),
            "next": "/settings/security",
        },
    )


async def test_adding_the_first_passkey_turns_two_factor_on_with_recovery_codes(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    added = await add_passkey(client, SoftAuthenticator(ORIGIN, "testserver"))
    assert added.status_code == 303
    assert added.headers["location"] == "/settings/security/recovery-codes"
    codes = await client.get("/settings/security/recovery-codes")
    assert len(re.findall(r"\b[0-9a-z]{5}-[0-9a-z]{5}\b", codes.text)) == 10
    page = (await client.get("/settings/security")).text
    assert "<strong>On.</strong>" in page and "Laptop" in page
    log = (await client.get("/settings/security-log")).text
    assert "Passkey added" in log and "Two-factor authentication turned on" in log


async def test_adding_a_passkey_needs_the_password(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    refused = await add_passkey(client, authenticator, password="a stolen session's guess")
    assert refused.status_code == 400
    assert 'id="password-error"' in refused.text and "That is not your password." in refused.text
    # The challenge was not spent: the same ceremony page answers again.
    page = await client.get("/settings/security/passkeys/new")
    assert page.status_code == 200
    retried = await client.post(
        "/settings/security/passkeys",
        data={
            "csrf_token": csrf_token(page.text),
            "credential": authenticator.create(options_in(page.text)),
            "name": "Laptop",
            "password": PASSWORD,
        },
    )
    assert retried.status_code == 303
    log = (await client.get("/settings/security-log")).text
    assert "Wrong password when adding a passkey" in log and "Passkey added" in log


async def test_a_passkey_signs_in_alone(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    laptop = browser(client)
    done = await sign_in_with_passkey(laptop, authenticator)
    assert done.status_code == 303 and done.headers["location"] == "/settings/security"
    assert (await laptop.get("/settings/security")).status_code == 200
    assert "with a passkey" in (await laptop.get("/settings/security-log")).text


async def test_a_passkey_is_the_second_step_after_the_password(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    laptop = browser(client)
    step = await submit(laptop, "/login", email="ann@example.com", password=PASSWORD)
    assert step.headers["location"] == "/login/two-factor"
    page = await ceremony(laptop, "/login/two-factor", "/login/two-factor/passkey")
    options = options_in(page)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(authenticator.credential_id)]
    done = await laptop.post(
        "/login/two-factor/passkey/verify",
        data={"csrf_token": csrf_token(page), "credential": authenticator.get(options)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/settings/developer"
    assert (await laptop.get("/settings/security")).status_code == 200


async def test_a_challenge_is_answered_once(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    laptop = browser(client)
    page = await ceremony(laptop, "/login", "/login/passkey")
    options = options_in(page)
    answer = authenticator.get(options)
    first = await laptop.post(
        "/login/passkey/verify", data={"csrf_token": csrf_token(page), "credential": answer}
    )
    assert first.status_code == 303
    replay = browser(client)
    replay.cookies.update(laptop.cookies)
    replay.cookies.delete("paced_session")
    again = await replay.post(
        "/login/passkey/verify",
        data={"csrf_token": csrf_token(page), "credential": authenticator.get(options)},
    )
    assert again.status_code == 400 and "expired or was already answered" in again.text


async def test_a_challenge_answers_only_the_browser_that_asked(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    asked = browser(client)
    page = await ceremony(asked, "/login", "/login/passkey")
    other = browser(client)
    other_page = (await other.get("/login")).text
    refused = await other.post(
        "/login/passkey/verify",
        data={
            "csrf_token": csrf_token(other_page),
            "credential": authenticator.get(options_in(page)),
        },
    )
    assert refused.status_code == 400
    assert (await other.get("/settings/security")).status_code == 303


async def test_a_signature_counter_that_does_not_go_up_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    assert (await sign_in_with_passkey(browser(client), authenticator)).status_code == 303
    cloned = await sign_in_with_passkey(browser(client), authenticator, counter=1)
    assert cloned.status_code == 400


async def test_an_answer_for_another_origin_is_refused(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    authenticator = SoftAuthenticator(ORIGIN, "testserver")
    await add_passkey(client, authenticator)
    laptop = browser(client)
    page = await ceremony(laptop, "/login", "/login/passkey")
    phished = authenticator.get(options_in(page), origin="https://paced-login.example")
    refused = await laptop.post(
        "/login/passkey/verify", data={"csrf_token": csrf_token(page), "credential": phished}
    )
    assert refused.status_code == 400
    assert "That passkey was not accepted." in refused.text


async def test_a_garbled_answer_is_a_clear_400(client: httpx.AsyncClient) -> None:
    laptop = browser(client)
    page = await ceremony(laptop, "/login", "/login/passkey")
    for garbage in ("", "not json", "[]", '{"response": {}}', "{" * 30_000):
        refused = await laptop.post(
            "/login/passkey/verify", data={"csrf_token": csrf_token(page), "credential": garbage}
        )
        assert refused.status_code in (400, 413), garbage[:20]


async def test_the_last_second_factor_goes_only_with_two_factor_itself(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    await add_passkey(client, SoftAuthenticator(ORIGIN, "testserver"), "Laptop")
    page = (await client.get("/settings/security")).text
    assert "/delete" not in page  # no Remove button on the only second factor
    await add_passkey(client, SoftAuthenticator(ORIGIN, "testserver"), "Phone")
    page = (await client.get("/settings/security")).text
    removes = dict(
        re.findall(
            r'action="(/settings/security/passkeys/passkey_\w+/delete)" class="inline" '
            r'data-confirm="Remove the passkey “(\w+)”\?"',
            page,
        )
    )
    assert sorted(removes.values()) == ["Laptop", "Phone"]
    laptop = next(action for action, name in removes.items() if name == "Laptop")
    removed = await client.post(laptop, data={"csrf_token": csrf_token(page)})
    assert removed.status_code == 303
    page = (await client.get("/settings/security")).text
    assert "The passkey is removed." in page, re.findall(r"class=\"flash\"[^<]*", page)
    assert "Phone" in page
    last = re.findall(r'action="(/settings/security/passkeys/passkey_\w+)/delete"', page)
    assert last == []
    off = await submit(
        client, "/settings/security", "/settings/security/two-factor/off", password=PASSWORD
    )
    assert off.status_code == 303
    assert "No passkeys yet" in (await client.get("/settings/security")).text


async def test_the_ceremony_pages_send_nobody_elsewhere_without_a_challenge(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/login/passkey")).headers["location"] == "/login"
    await sign_up(client)
    response = await client.get("/settings/security/passkeys/new")
    assert response.headers["location"] == "/settings/security"
