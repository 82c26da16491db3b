"""A signed-in account with one of everything (a token, an application with a secret, an
authorization of that application), and every page it can see, found from the routers so
that a new page is checked without anyone listing it."""

from __future__ import annotations

import html
import importlib
import pkgutil
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from fastapi.routing import APIRoute

import paced.web.routers
import paced.web.routers.pages
from tests.helpers import sign_up, submit

REDIRECT = "https://zapier.example/cb"


@dataclass(frozen=True)
class Furnished:
    token_id: str
    app_id: str
    client_id: str
    secret_id: str

    def consent_path(self) -> str:
        # prompt=consent: the screen, although this account already authorized the app.
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT}
        query |= {"scope": "read write", "state": "s", "prompt": "consent"}
        return "/oauth/authorize?" + urlencode(query)

    def fill(self, route: str) -> str:
        """A route's path with this account's ids in place of its parameters."""
        ids = {"token_id": self.token_id, "app_id": self.app_id, "secret_id": self.secret_id}
        unknown = set(re.findall(r"{(\w+)}", route)) - set(ids)
        assert not unknown, f"every_page cannot fill {unknown} in {route}: teach it"
        return route.format(**ids)


async def furnish(client: httpx.AsyncClient) -> Furnished:
    """Sign up, create a token, register an app (one secret), and authorize it."""
    await sign_up(client)
    new_token = "/settings/developer/tokens/new"
    created = await submit(client, new_token, name="ci", scopes=["read"], expiration="30")
    assert created.status_code == 303, created.text
    listing = (await client.get("/settings/developer")).text
    token_id = re.search(r'href="/settings/developer/tokens/(pat_\w+)/revoke"', listing)
    new_app = "/settings/developer/applications/new"
    fields = {"name": "Zapier", "redirect_uris": REDIRECT, "client_type": "confidential"}
    registered = await submit(client, new_app, **fields)
    assert registered.status_code == 303, registered.text
    app_page = (await client.get(registered.headers["location"])).text
    app_id = registered.headers["location"].rsplit("/", 1)[1]
    client_id = re.search(r'id="client-id" type="text" value="(\w+)"', app_page)
    secret_id = re.search(rf"/applications/{app_id}/secrets/(\w+)/delete", app_page)
    assert token_id and client_id and secret_id
    furnished = Furnished(token_id.group(1), app_id, client_id.group(1), secret_id.group(1))

    consent = await client.get(furnished.consent_path())
    found = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', consent.text)
    hidden = {name: html.unescape(value) for name, value in found}
    approved = await client.post("/oauth/authorize", data={**hidden, "decision": "approve"})
    assert approved.status_code == 303 and approved.headers["location"].startswith(REDIRECT)
    return furnished


def page_routes() -> list[str]:
    """Every GET route of the pages a signed-in person uses (under /settings)."""
    routes: set[str] = set()
    for package in (paced.web.routers, paced.web.routers.pages):
        for module in pkgutil.iter_modules(package.__path__):
            loaded = importlib.import_module(f"{package.__name__}.{module.name}")
            for route in getattr(getattr(loaded, "router", None), "routes", ()):
                if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
                    if route.path.startswith("/settings"):
                        routes.add(route.path)
    return sorted(routes)


async def signed_in_pages(client: httpx.AsyncClient, furnished: Furnished) -> dict[str, str]:
    """Path -> HTML of every page a signed-in person sees: each /settings page (after its
    redirect, if it has one), the consent screen, the /device pages, and an error page."""
    paths = [furnished.fill(route) for route in page_routes()]
    paths += [furnished.consent_path(), "/settings/developer/applications/app_unknown"]
    # The device flow's pages (RFC 8628): the code form and its last page.
    paths += ["/device?user_code=BCDF-GHJK", "/device/done?result=approved"]
    pages: dict[str, str] = {}
    for path in paths:
        response = await client.get(path)
        if response.status_code in (302, 303, 307):
            response = await client.get(response.headers["location"])
        assert response.headers["content-type"].startswith("text/html"), path
        pages[path] = response.text
    return pages
