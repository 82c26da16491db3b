"""Two-factor authentication through the pages: the authenticator app, recovery codes,
the second step of a sign-in, and turning it off."""

from __future__ import annotations

import re

import httpx
import pyotp

from paced.settings import Settings
from paced.web.app import create_app
from tests.conftest import Clock
from tests.helpers import csrf_token, sign_up, submit

PASSWORD = "correct horse battery"


def browser(client: httpx.AsyncClient, user_agent: str = "pytest") -> httpx.AsyncClient:
    """Another browser on the same app, with cookies of its own."""
    return httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver",
        headers={"user-agent": user_agent},
    )


async def turn_on_authenticator(client: httpx.AsyncClient, clock: Clock) -> tuple[str, list[str]]:
    """Set up the app from the set-up page as a person would; its secret and the
    recovery codes shown once."""
    started = await submit(client, "/settings/security", "/settings/security/authenticator")
    assert started.status_code == 303
    assert started.headers["location"] == "/settings/security/authenticator"
    page = await client.get("/settings/security/authenticator")
    assert page.headers["cache-control"] == "no-store"
    assert 'src="data:image/svg+xml' in page.text  # the QR code, drawn on the server
    shown = re.search(r'id="totp-secret" type="text" value="([A-Z2-7 ]+)"', page.text)
    assert shown, page.text
    secret = shown.group(1).replace(" ", "")
    confirmed = await client.post(
        "/settings/security/authenticator/confirm",
        data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).at(clock.now)},
    )
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/settings/security/recovery-codes"
    return secret, await shown_codes(client)


async def shown_codes(client: httpx.AsyncClient) -> list[str]:
    page = await client.get("/settings/security/recovery-codes")
    assert page.headers["cache-control"].startswith("no-store")
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)
    assert box, "no recovery codes on the page"
    return box.group(1).split()


async def password_step(
    client: httpx.AsyncClient, email: str = "ann@example.com"
) -> httpx.Response:
    return await submit(client, "/login", email=email, password=PASSWORD)


async def second_step(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await submit(client, "/login/two-factor", code=code)


async def is_signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/settings/security")).status_code == 200


async def test_setting_up_shows_a_qr_code_and_the_key_and_ten_codes_once(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    secret, codes = await turn_on_authenticator(client, clock)
    assert len(secret) == 32
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{5}-[0-9a-z]{5}", code) for code in codes)
    again = await client.get("/settings/security/recovery-codes")
    assert "no longer shown" in again.text and codes[0] not in again.text
    security = await client.get("/settings/security")
    assert "10 of 10 left" in security.text


async def test_a_wrong_code_does_not_turn_it_on(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_up(client)
    await submit(client, "/settings/security", "/settings/security/authenticator")
    page = await client.get("/settings/security/authenticator")
    refused = await client.post(
        "/settings/security/authenticator/confirm",
        data={"csrf_token": csrf_token(page.text), "code": "000000"},
    )
    assert refused.status_code == 400
    assert 'id="code-error"' in refused.text and "autofocus" in refused.text
    assert "<strong>Off.</strong>" in (await client.get("/settings/security")).text


async def test_sign_in_asks_for_a_code_and_each_code_works_once(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    secret, _ = await turn_on_authenticator(client, clock)
    laptop = browser(client)
    step = await password_step(laptop)
    assert step.status_code == 303 and step.headers["location"] == "/login/two-factor"
    # Half signed in: no page of the account yet.
    assert not await is_signed_in(laptop)
    # The code that confirmed the set-up was used: it is refused now.
    reused = await second_step(laptop, pyotp.TOTP(secret).at(clock.now))
    assert reused.status_code == 400 and "That code is not right" in reused.text
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now)
    done = await second_step(laptop, code)
    assert done.status_code == 303 and done.headers["location"] == "/settings/developer"
    assert await is_signed_in(laptop)
    phone = browser(client)
    await password_step(phone)
    assert (await second_step(phone, code)).status_code == 400
    assert not await is_signed_in(phone)


async def test_codes_of_the_steps_beside_now_are_accepted_and_no_further(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    secret, _ = await turn_on_authenticator(client, clock)
    clock.advance(minutes=5)
    totp = pyotp.TOTP(secret)
    laptop = browser(client)
    await password_step(laptop)
    two_steps_ago = totp.at(clock.now, counter_offset=-2)
    assert (await second_step(laptop, two_steps_ago)).status_code == 400
    one_step_ago = totp.at(clock.now, counter_offset=-1)
    assert (await second_step(laptop, one_step_ago)).status_code == 303


async def test_a_recovery_code_signs_in_once(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_up(client)
    _, codes = await turn_on_authenticator(client, clock)
    laptop = browser(client)
    await password_step(laptop)
    # Typed in capitals, with a space for the dash: still the code.
    done = await second_step(laptop, codes[3].upper().replace("-", " "))
    assert done.status_code == 303
    assert "9 of 10 left" in (await laptop.get("/settings/security")).text
    phone = browser(client)
    await password_step(phone)
    assert (await second_step(phone, codes[3])).status_code == 400
    assert not await is_signed_in(phone)


async def test_the_half_signed_in_state_expires(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_up(client)
    secret, _ = await turn_on_authenticator(client, clock)
    laptop = browser(client)
    await password_step(laptop)
    page = await laptop.get("/login/two-factor")
    clock.advance(minutes=6)
    late = await laptop.post(
        "/login/two-factor",
        data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).at(clock.now)},
    )
    assert late.status_code == 303 and late.headers["location"] == "/login"
    assert not await is_signed_in(laptop)


async def test_the_second_step_needs_the_password_step_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/login/two-factor")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def wrong_code(secret: str, clock: Clock) -> str:
    """A 6-digit code that none of the accepted steps has."""
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(clock.now, counter_offset=offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


async def test_wrong_codes_count_toward_the_sign_in_limit(settings: Settings, clock: Clock) -> None:
    app = create_app(
        settings.model_copy(update={"rate_limit_login_per_account": "3/10 minutes"}), clock=clock
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await sign_up(client)
            secret, _ = await turn_on_authenticator(client, clock)
            clock.advance(seconds=30)
            laptop = browser(client)
            await password_step(laptop)
            for _ in range(3):
                assert (await second_step(laptop, wrong_code(secret, clock))).status_code == 400
            limited = await second_step(laptop, pyotp.TOTP(secret).at(clock.now))
            assert limited.status_code == 429 and "Retry-After" in limited.headers
            assert "Too many failed sign-ins" in limited.text
            assert not await is_signed_in(laptop)
    finally:
        await app.paced.rate_limits.aclose()
        await app.paced.database.close()


async def test_turning_it_off_needs_the_password(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_up(client)
    await turn_on_authenticator(client, clock)
    wrong = await submit(
        client, "/settings/security", "/settings/security/two-factor/off", password="guess"
    )
    assert wrong.status_code == 400 and "That is not your password." in wrong.text
    assert "<strong>On.</strong>" in wrong.text
    right = await submit(
        client, "/settings/security", "/settings/security/two-factor/off", password=PASSWORD
    )
    assert right.status_code == 303
    assert "<strong>Off.</strong>" in (await client.get("/settings/security")).text
    laptop = browser(client)
    step = await password_step(laptop)
    assert step.headers["location"] == "/settings/developer"
    log = (await client.get("/settings/security-log")).text
    for title in (
        "Two-factor authentication turned on",
        "Authenticator app set up",
        "New recovery codes made",
        "Wrong password when turning two-factor authentication off",
        "Two-factor authentication turned off",
    ):
        assert title in log, title


async def test_the_security_log_tells_each_step_of_a_sign_in(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    secret, codes = await turn_on_authenticator(client, clock)
    laptop = browser(client)
    await password_step(laptop)
    await second_step(laptop, wrong_code(secret, clock))
    await second_step(laptop, codes[0])
    log = (await laptop.get("/settings/security-log")).text
    assert "Password accepted; second step asked" in log
    assert "Wrong code or passkey at the second step of a sign-in" in log
    assert "Recovery code used" in log
    assert "recovery code" in log  # the sign-in names how it was completed


async def test_recovery_codes_can_be_made_again_and_the_old_ones_stop(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    _, old = await turn_on_authenticator(client, clock)
    made = await submit(client, "/settings/security", "/settings/security/recovery-codes")
    assert made.status_code == 303
    new = await shown_codes(client)
    assert len(new) == 10 and not set(new) & set(old)
    laptop = browser(client)
    await password_step(laptop)
    assert (await second_step(laptop, old[0])).status_code == 400
    assert (await second_step(laptop, new[0])).status_code == 303


async def test_forms_need_their_csrf_token(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    for path in (
        "/settings/security/authenticator",
        "/settings/security/recovery-codes",
        "/settings/security/two-factor/off",
        "/settings/security/passkeys/new",
    ):
        response = await client.post(path, data={"password": PASSWORD})
        assert response.status_code == 403, path
