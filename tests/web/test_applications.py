"""OAuth applications in Developer settings, driven as a browser would."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import select

from paced.core import token_format
from paced.core.client_auth import ClientCredentials, authenticate
from paced.core.errors import InvalidClient
from paced.core.policy import Policy
from paced.storage import models
from tests.conftest import Clock
from tests.helpers import connect, csrf_token, sign_up, submit

NEW = "/settings/developer/applications/new"
_SECRET = re.compile(r"pt_client_[0-9A-Za-z]{36}")
_APP_PATH = re.compile(r"^/settings/developer/applications/(app_[0-9A-Za-z]{24})$")


def engine_of(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    return client._transport.app.paced.database  # type: ignore[attr-defined]


async def register(
    client: httpx.AsyncClient,
    *,
    name: str = "Zapier",
    redirect_uris: str = "https://zapier.example/cb\nhttp://127.0.0.1/cb",
    client_type: str = "confidential",
    **extra: str,
) -> tuple[str, str | None]:
    """Register through the form; (the app's page, the secret shown on it)."""
    response = await submit(
        client, NEW, name=name, redirect_uris=redirect_uris, client_type=client_type, **extra
    )
    assert response.status_code == 303, response.text
    page = response.headers["location"]
    assert _APP_PATH.match(page)
    shown = await client.get(page)
    assert shown.status_code == 200
    secrets = _SECRET.findall(shown.text)
    return page, secrets[0] if secrets else None


async def client_id_of(client: httpx.AsyncClient, page: str) -> str:
    match = re.search(
        r'id="client-id" type="text" value="([0-9A-Za-z]+)"', (await client.get(page)).text
    )
    assert match
    return match.group(1)


async def auth(client: httpx.AsyncClient, client_id: str, secret: str, clock: Clock) -> str:
    async with engine_of(client).unit_of_work() as store:
        app = await authenticate(
            store, ClientCredentials(client_id, secret, "client_secret_post"), clock(), Policy()
        )
    return app.id


async def second_user(client: httpx.AsyncClient) -> httpx.AsyncClient:
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_up(other, email="mallory@example.com", name="Mallory")
    return other


async def test_the_empty_state_says_what_to_do(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page = await client.get("/settings/developer")
    assert page.status_code == 200
    assert "OAuth applications" in page.text
    assert "You have not registered an application yet." in page.text
    assert f'href="{NEW}"' in page.text


async def test_registering_shows_the_secret_once(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_up(client)
    response = await submit(
        client,
        NEW,
        name="Zapier",
        redirect_uris="https://zapier.example/cb\r\n",
        homepage_url="https://zapier.example",
        description="Moves mail.",
        client_type="confidential",
    )
    assert response.status_code == 303
    page = response.headers["location"]
    assert "pt_client_" not in page and "pt_client_" not in response.text
    reveal = next(c for c in response.headers.get_list("set-cookie") if "paced_reveal=" in c)
    assert "HttpOnly" in reveal and "samesite=strict" in reveal.lower() and "Path=/;" in reveal

    shown = await client.get(page)
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    [secret] = set(_SECRET.findall(shown.text))
    assert token_format.is_well_formed(secret, "pt_client_")
    assert 'data-copy="client-secret"' in shown.text
    assert "You will not be able to see it again" in shown.text
    assert "Registered Zapier." in shown.text

    again = await client.get(page)
    assert again.status_code == 200
    assert "pt_client_" + secret[10:] not in again.text
    assert not _SECRET.search(again.text)

    listing = await client.get("/settings/developer")
    assert "Zapier" in listing.text and page in listing.text
    client_id = await client_id_of(client, page)
    assert client_id in listing.text
    assert await auth(client, client_id, secret, clock) == page.rsplit("/", 1)[1]

    async with connect(engine_of(client)) as connection:
        stored = (await connection.execute(select(models.client_secrets.c.digest))).scalar_one()
    assert stored != secret and len(stored) == 64


async def test_a_stolen_reveal_cookie_shows_nothing_in_another_session(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    response = await submit(
        client, NEW, name="A", redirect_uris="https://a.example/cb", client_type="confidential"
    )
    page = response.headers["location"]
    cookie = client.cookies.get("paced_reveal")
    assert cookie
    other = await second_user(client)
    other.cookies.set("paced_reveal", cookie)
    assert not _SECRET.search((await other.get(page)).text)  # also a 404: not theirs


async def test_a_public_app_gets_no_secret(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page, secret = await register(
        client, name="Phone", redirect_uris="com.example.phone:/cb", client_type="public"
    )
    assert secret is None
    shown = await client.get(page)
    assert "has no client secret" in shown.text and "PKCE" in shown.text
    assert "Generate a new client secret" not in shown.text
    refused = await submit(client, page, f"{page}/secrets")
    assert refused.status_code == 303 and refused.headers["location"] == page
    assert "uses PKCE instead" in (await client.get(page)).text


async def test_each_bad_redirect_uri_line_gets_its_own_message_and_nothing_is_saved(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    uris = "https://ok.example/cb\nhttp://example.com/cb\nhttps://*.example.com/cb\ncom.example.app:/cb"
    response = await submit(client, NEW, name="Bad", redirect_uris=uris, client_type="confidential")
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "Nothing was saved." in text
    assert "Line 2 (http://example.com/cb): " in text
    assert "Line 3 (https://*.example.com/cb): " in text
    assert "Line 4 (com.example.app:/cb): " in text and "public clients only" in text
    assert "Line 1" not in text
    assert 'aria-invalid="true"' in response.text
    assert "https://ok.example/cb\nhttp://example.com/cb" in text  # the textarea keeps them
    assert (
        "You have not registered an application yet."
        in (await client.get("/settings/developer")).text
    )


async def test_an_empty_redirect_uri_field_asks_for_one(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await submit(client, NEW, name="App", redirect_uris="  \n", client_type="public")
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "Enter at least one redirect URI." in text
    assert "Line 1" not in text


async def test_rotation_two_secrets_both_work_then_only_the_second(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    page, first = await register(client)
    assert first
    client_id = await client_id_of(client, page)

    clock.advance(hours=1)
    response = await submit(client, page, f"{page}/secrets")
    assert response.status_code == 303 and response.headers["location"] == page
    shown = await client.get(page)
    [second] = set(_SECRET.findall(shown.text))
    assert second != first
    assert "The previous one keeps working until you delete it." in shown.text
    assert await auth(client, client_id, first, clock)
    assert await auth(client, client_id, second, clock)

    # At the limit the page offers no new secret, and says why; each secret shows its hint
    # (oldest first) instead of "older" and "newer".
    listed = (await client.get(page)).text
    assert "Generate a new client secret" not in listed
    assert "has 2 client secrets, the most it can have" in listed
    hints = re.findall(r'<code class="credential-hint">([^<]+)</code>', listed)
    assert hints == [token_format.hint(first), token_format.hint(second)]
    assert "(older)" not in listed and "(newer)" not in listed
    # A POST at the limit anyway (an old tab) goes back to the page with the reason.
    refused = await client.post(f"{page}/secrets", data={"csrf_token": csrf_token(listed)})
    assert refused.status_code == 303 and refused.headers["location"] == page
    back = (await client.get(page)).text
    assert "already has 2 client secrets" in back
    assert not _SECRET.search(back)

    delete_links = re.findall(rf'href="({page}/secrets/secret_[0-9A-Za-z]+/delete)"', listed)
    assert len(delete_links) == 2
    confirm = await client.get(delete_links[0])
    assert confirm.status_code == 200 and "Delete this client secret?" in confirm.text
    deleted = await client.post(delete_links[0], data={"csrf_token": csrf_token(confirm.text)})
    assert deleted.status_code == 303

    with pytest.raises(InvalidClient):
        await auth(client, client_id, first, clock)
    assert await auth(client, client_id, second, clock)
    after = (await client.get(page)).text
    assert len(re.findall(r"/secrets/secret_[0-9A-Za-z]+/delete", after)) == 1
    assert "Client secret deleted." in after


async def test_editing_the_details(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page, _ = await register(client)
    response = await submit(
        client,
        page,
        name="Zapier 2",
        redirect_uris="https://zapier.example/new",
        homepage_url="https://zapier.example",
        description="Better.",
    )
    assert response.status_code == 303 and response.headers["location"] == page
    shown = (await client.get(page)).text
    assert (
        "Zapier 2" in shown and "https://zapier.example/new" in shown and "Changes saved." in shown
    )

    bad = await submit(client, page, name="", redirect_uris="ftp://x.example/cb")
    assert bad.status_code == 400
    text = html.unescape(bad.text)
    assert "Enter a name" in text and "Line 1 (ftp://x.example/cb)" in text
    assert "Zapier 2" in (await client.get(page)).text


async def test_deleting_an_app_needs_a_confirmation_page_and_removes_it(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    page, secret = await register(client)
    assert secret
    client_id = await client_id_of(client, page)
    shown = (await client.get(page)).text
    assert f'href="{page}/delete"' in shown  # a link, so it works without JavaScript
    confirm = await client.get(f"{page}/delete")
    assert confirm.status_code == 200
    assert "Delete Zapier?" in confirm.text and f'action="{page}/delete"' in confirm.text
    response = await client.post(f"{page}/delete", data={"csrf_token": csrf_token(confirm.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/developer#applications"
    listing = (await client.get("/settings/developer")).text
    assert "Deleted Zapier." in listing and "You have not registered an application yet." in listing
    assert (await client.get(page)).status_code == 404
    with pytest.raises(InvalidClient):
        await auth(client, client_id, secret, clock)


async def test_posts_without_a_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    page, _ = await register(client)
    for action in (NEW, page, f"{page}/secrets", f"{page}/delete"):
        response = await client.post(action, data={"name": "x", "redirect_uris": "https://x/cb"})
        assert response.status_code == 403, action
    assert (await client.get(page)).status_code == 200


async def test_signed_out_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get(NEW)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={NEW}"


async def test_another_users_application_is_a_404_on_every_page_and_action(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await sign_up(client)
    page, secret = await register(client)
    assert secret
    secret_link = re.search(r'href="([^"]+/secrets/[^"]+/delete)"', (await client.get(page)).text)
    assert secret_link
    client_id = await client_id_of(client, page)

    other = await second_user(client)
    token = csrf_token((await other.get("/settings/developer")).text)
    assert "Zapier" not in (await other.get("/settings/developer")).text
    for path in (page, f"{page}/delete", secret_link.group(1)):
        assert (await other.get(path)).status_code == 404, path
    form = {"csrf_token": token, "name": "Mine", "redirect_uris": "https://evil.example/cb"}
    for path in (page, f"{page}/secrets", f"{page}/delete", secret_link.group(1)):
        assert (await other.post(path, data=form)).status_code == 404, path

    shown = (await client.get(page)).text
    assert "Zapier" in shown and "evil.example" not in shown
    assert len(re.findall(r"/secrets/secret_[0-9A-Za-z]+/delete", shown)) == 1
    assert await auth(client, client_id, secret, clock)


@pytest.mark.parametrize(
    "name",
    ["Zapier\u202eecnanif", "Zap\u200bier", "\u2067Zapier"],
    ids=["a right-to-left override", "a zero-width space", "a right-to-left isolate"],
)
async def test_an_app_name_that_would_render_reversed_or_invisible_is_refused(
    client: httpx.AsyncClient, name: str
) -> None:
    await sign_up(client)
    response = await submit(
        client, NEW, name=name, redirect_uris="https://zapier.example/cb", client_type="public"
    )
    assert response.status_code == 400
    assert "Remove the control characters" in response.text
    async with connect(engine_of(client)) as connection:
        assert (await connection.execute(select(models.apps.c.id))).all() == []
