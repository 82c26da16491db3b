from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from paced.logs import REQUEST_ID, AccessLog, JsonFormatter, TextFormatter
from paced.settings import Settings
from paced.web.answered import BATCH_SECONDS, Answered
from paced.web.app import create_app
from paced.web.edge import Edge
from tests.conftest import Clock
from tests.token_rows import add_personal_token, add_user

GENERATED = re.compile(r"[0-9a-f]{16}")


def access_lines(answered: Answered, stream: io.StringIO) -> list[dict[str, object]]:
    answered.close()  # writes what is pending
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
async def logged(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, Callable[[], list[dict[str, object]]]]]:
    """A client of an app whose JSON access log the test reads."""
    stream = io.StringIO()
    app = create_app(
        settings.model_copy(update={"log_format": "json"}), clock=clock, log_stream=stream
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, lambda: access_lines(app.state.answered, stream)
    finally:
        await app.paced.rate_limits.aclose()
        await app.paced.database.close()


async def item(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def failing(request: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


async def refuse(request: Request, limit: int) -> PlainTextResponse:
    return PlainTextResponse("too large", status_code=413)


def tiny(answered: Answered | None = None) -> httpx.AsyncClient:
    """A two-route app behind the observer alone."""
    app = Starlette(
        routes=[Route("/items/{item_id}", item), Route("/fail", failing)],
    )
    observed = Edge(app, max_body_bytes=1024, refuse=refuse, answered=answered)
    transport = httpx.ASGITransport(app=observed)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_every_answer_carries_a_fresh_request_id(client: httpx.AsyncClient) -> None:
    ids = [
        (await client.get(path)).headers["x-request-id"]
        for path in ("/healthz", "/nowhere", "/api/v1/me")
    ]
    assert all(GENERATED.fullmatch(value) for value in ids)
    assert len(set(ids)) == 3


async def test_a_plain_request_id_from_the_proxy_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9_Z-1"})
    assert response.headers["x-request-id"] == "lb-7f3a.9_Z-1"


async def test_a_page_that_fails_is_answered_through_the_edge_too(
    settings: Settings, clock: Clock
) -> None:
    app = create_app(settings, clock=clock)

    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/broken")
    finally:
        await app.paced.database.close()
    assert response.status_code == 500
    assert GENERATED.fullmatch(response.headers["x-request-id"])
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "incoming",
    ["a" * 65, "id with spaces", "id<script>", "id;drop", ""],
    ids=["too long", "spaces", "markup", "a semicolon", "empty"],
)
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_one_access_line_names_the_route_template_never_the_path_or_query(
    logged: tuple[httpx.AsyncClient, Callable[[], list[dict[str, object]]]],
) -> None:
    client, lines = logged
    response = await client.get(
        "/settings/developer/tokens/pat_private/revoke?state=private-value",
        headers={"X-Request-ID": "req-42"},
    )
    [line] = lines()
    assert line["method"] == "GET"
    assert line["route"] == "/settings/developer/tokens/{token_id}/revoke"
    assert line["status"] == response.status_code == 303
    assert line["request_id"] == "req-42"
    assert isinstance(line["duration_ms"], float)
    assert line["client"] == "127.0.0.1"
    assert "private" not in json.dumps(line)


async def test_the_hot_plain_routes_are_named_by_their_template_too(
    logged: tuple[httpx.AsyncClient, Callable[[], list[dict[str, object]]]],
) -> None:
    # /api/v1/me and /oauth/token are served by plain Starlette routes (paced.web.app).
    client, lines = logged
    await client.get("/api/v1/me")
    await client.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert [(line["route"], line["status"]) for line in lines()] == [
        ("/api/v1/me", 401),
        ("/oauth/token", 401),
    ]


@pytest.mark.parametrize(
    ("path", "route"),
    [("/static/paced.css", "/static"), ("/no/such/page?x=1", "<unmatched>")],
    ids=["a static file is named by its mount", "an unknown path is not named at all"],
)
async def test_routes_without_a_template(
    logged: tuple[httpx.AsyncClient, Callable[[], list[dict[str, object]]]],
    path: str,
    route: str,
) -> None:
    client, lines = logged
    await client.get(path)
    assert [line["route"] for line in lines()] == [route]


async def test_no_access_line_when_the_access_log_is_off() -> None:
    async with tiny(None) as http:
        response = await http.get("/items/1")
    assert response.headers["x-request-id"]


async def test_a_request_that_fails_is_logged_as_a_500_and_the_error_goes_on() -> None:
    stream = io.StringIO()
    answered = Answered(AccessLog(stream, "json"), metrics=False)
    async with tiny(answered) as http:
        with pytest.raises(RuntimeError, match="boom"):
            await http.get("/fail")
    [line] = access_lines(answered, stream)
    assert (line["route"], line["status"]) == ("/fail", 500)


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_an_access_line_reads_as_the_logging_formatters_would_write_it(
    fmt: Literal["json", "text"],
) -> None:
    stream = io.StringIO()
    answered = Answered(AccessLog(stream, fmt), metrics=False)
    token = REQUEST_ID.set("req-7")
    try:
        answered.add("GET", "/api/v1/me", 200, 0.001234, "203.0.113.5")
    finally:
        REQUEST_ID.reset(token)
    answered.close()
    fields = {
        "method": "GET",
        "route": "/api/v1/me",
        "status": 200,
        "duration_ms": 1.23,
        "client": "203.0.113.5",
    }
    record = logging.LogRecord(
        "paced.access", logging.INFO, __file__, 1, "GET /api/v1/me 200", (), None
    )
    record.fields = fields
    token = REQUEST_ID.set("req-7")
    try:
        formatter = JsonFormatter() if fmt == "json" else TextFormatter()
        expected = formatter.format(record)
    finally:
        REQUEST_ID.reset(token)
    written = stream.getvalue()
    assert written.endswith("\n") and written.count("\n") == 1
    if fmt == "json":
        line, wanted = json.loads(written), json.loads(expected)
        assert line.pop("time")[:19] == wanted.pop("time")[:19]
        assert line == wanted
    else:
        assert written.rstrip("\n")[8:] == expected[8:]  # after the time of day


async def test_lines_are_written_off_the_loop_in_batches() -> None:
    class Counting(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    stream = Counting()
    answered = Answered(AccessLog(stream, "json"), metrics=False)
    for n in range(50):
        answered.add("GET", f"/r/{n}", 200, 0.001, None)
    await asyncio.sleep(BATCH_SECONDS * 2)  # the batch is handed over
    answered.close()
    assert stream.writes == 1 and len(stream.getvalue().splitlines()) == 50


def requests_counted(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("paced_http_requests_total", labels) or 0.0


def latencies_counted(method: str, route: str) -> float:
    labels = {"method": method, "route": route}
    return REGISTRY.get_sample_value("paced_http_request_duration_seconds_count", labels) or 0.0


async def test_requests_are_counted_by_route_template_and_status_when_metrics_are_on() -> None:
    before = requests_counted("GET", "/items/{item_id}", "200")
    timed = latencies_counted("GET", "/items/{item_id}")
    answered = Answered(None, metrics=True)
    async with tiny(answered) as http:
        await http.get("/items/1")
        await http.get("/items/2")
    answered.close()  # counts what is pending
    assert requests_counted("GET", "/items/{item_id}", "200") == before + 2
    assert latencies_counted("GET", "/items/{item_id}") == timed + 2


async def test_an_unusual_method_is_counted_as_other() -> None:
    before = requests_counted("OTHER", "/items/{item_id}", "405")
    answered = Answered(None, metrics=True)
    async with tiny(answered) as http:
        await http.request("BREW", "/items/1")
    answered.close()
    assert requests_counted("OTHER", "/items/{item_id}", "405") == before + 1


async def test_nothing_is_counted_when_metrics_are_off() -> None:
    before = requests_counted("GET", "/items/{item_id}", "200")
    async with tiny(None) as http:
        await http.get("/items/1")
    assert requests_counted("GET", "/items/{item_id}", "200") == before


# --- proxy headers --------------------------------------------------------------------


def whoami_app(settings: Settings, clock: Clock, trusted: str) -> FastAPI:
    """The app with PACED_TRUSTED_PROXIES set, and a route that shows what it believes."""
    app = create_app(settings.model_copy(update={"trusted_proxies": trusted}), clock=clock)

    async def whoami(request: Request) -> JSONResponse:
        assert request.client is not None
        return JSONResponse({"client": request.client.host, "scheme": request.url.scheme})

    app.add_api_route("/whoami", whoami)
    return app


FORWARDED = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("trusted", "client", "scheme"),
    [
        ("", "127.0.0.1", "http"),
        ("10.0.0.1", "127.0.0.1", "http"),
        ("127.0.0.1", "198.51.100.1", "https"),
        ("127.0.0.0/8, 198.51.100.0/24", "203.0.113.9", "https"),
    ],
    ids=[
        "no proxy is trusted by default",
        "a request from another address than the proxy's is taken as it is",
        "the trusted proxy's forwarded client and scheme are believed",
        "each trusted hop is skipped, back to the first untrusted address",
    ],
)
async def test_forwarded_headers_count_only_from_a_trusted_proxy(
    settings: Settings, clock: Clock, trusted: str, client: str, scheme: str
) -> None:
    app = whoami_app(settings, clock, trusted)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            seen = (await http.get("/whoami", headers=FORWARDED)).json()
    finally:
        await app.paced.database.close()
    assert seen == {"client": client, "scheme": scheme}


def test_a_trusted_proxy_that_is_no_address_is_refused() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        Settings(_env_file=None, trusted_proxies="10.0.0.1, proxy.internal")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/me", {}),
        ("GET", "/api/v1/me", {"Authorization": "Bearer pt_secret_nope"}),
        ("GET", "/api/v1/me", {"Authorization": "Bearer"}),
        ("POST", "/api/v1/me", {}),
        ("GET", "/api/v1/nothing-here", {}),
        ("GET", "/api/v2", {}),
        ("POST", "/api/v1/credentials/revoke", {}),
    ],
    ids=[
        "no credentials",
        "a malformed token",
        "a malformed header",
        "a wrong method",
        "an unknown path",
        "an unknown version",
        "a malformed report",
    ],
)
async def test_every_api_answer_is_not_stored(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = await client.request(method, path, headers=headers)
    assert response.status_code >= 400
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert set(response.json()) == {"error", "error_description"}


async def test_a_successful_api_answer_is_not_stored_either(
    client: httpx.AsyncClient, app: FastAPI, clock: Clock
) -> None:
    user = await add_user(app.paced.database, clock())
    token = await add_personal_token(app.paced.database, user, clock())
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.secret}"})
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["no-store"]


async def test_a_batch_that_fails_leaves_the_next_ones_written() -> None:
    class Failing(io.StringIO):
        failed = False

        def write(self, text: str) -> int:
            if not self.failed:
                self.failed = True
                raise RuntimeError("the first write fails")
            return super().write(text)

    stream = Failing()
    answered = Answered(AccessLog(stream, "json"), metrics=False)
    answered.add("GET", "/first", 200, 0.001, None)
    await asyncio.sleep(BATCH_SECONDS * 3)  # the first batch is handed over, and fails
    answered.add("GET", "/second", 200, 0.001, None)
    answered.close()
    assert [json.loads(line)["route"] for line in stream.getvalue().splitlines()] == ["/second"]
