"""`/docs`, `/openapi.json` and `/favicon.ico`: the API describes itself, from paced alone.
(tests/e2e/test_browser_docs.py runs the page in Chromium with the network cut off.)"""

from __future__ import annotations

import re

import httpx

from paced.web.headers import CSP

# Every operation paced answers, as `/openapi.json` must list it.
OPERATIONS = {
    ("get", "/api/v1/me"),
    ("post", "/api/v1/credentials/revoke"),
    ("post", "/oauth/token"),
    ("post", "/oauth/revoke"),
    ("post", "/oauth/introspect"),
    ("post", "/oauth/device_authorization"),
    ("post", "/oauth/register"),
    ("get", "/.well-known/oauth-protected-resource"),
    ("get", "/.well-known/oauth-protected-resource/api/v1"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("get", "/oauth/authorize"),
    ("post", "/oauth/authorize"),
}


async def test_the_docs_page_loads_only_our_own_files(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in response.text
    for source in sources:
        if source != "/openapi.json":
            assert (await client.get(source)).status_code == 200, source


async def test_every_operation_is_documented_with_errors_and_examples(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    found = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert found == OPERATIONS
    for method, path in OPERATIONS:
        operation = document["paths"][path][method]
        answers = operation["responses"]
        assert operation.get("summary"), (method, path)
        assert any(code.startswith("2") or code == "303" for code in answers), (method, path)
        if not path.startswith("/.well-known/"):  # a public document, always there
            assert any(code.startswith("4") for code in answers), (method, path)
        assert "example" in str(operation) or "examples" in str(document), (method, path)


async def test_the_authorization_endpoint_is_documented_as_a_page(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    get = document["paths"]["/oauth/authorize"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert {"response_type", "client_id", "redirect_uri", "state", "code_challenge"} <= names
    assert set(get["responses"]["400"]["content"]) == {"text/html"}
    assert "Location" in get["responses"]["303"]["headers"]
    post = document["paths"]["/oauth/authorize"]["post"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]


async def test_the_favicon_answers(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    svg = await client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


async def test_every_page_names_the_icon(client: httpx.AsyncClient) -> None:
    for path in ("/login", "/signup", "/docs", "/nowhere"):
        page = await client.get(path)
        assert '<link rel="icon" href="/static/favicon.svg"' in page.text, path
