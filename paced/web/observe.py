"""Per request: an `X-Request-ID` in and out, one access-log line, the request metrics.

Pure ASGI and lean, as it wraps every API call: with the access log and metrics off it
only reads one header and adds one. The route is the matched template
(`/settings/developer/tokens/{token_id}/revoke`), never the raw path or query string.
The access log's lines are written by `paced.logs.AccessLog`, off the loop.
"""

from __future__ import annotations

import itertools
import re
from secrets import token_hex
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paced.logs import REQUEST_ID, AccessLog
from paced.web import metrics

HEADER = b"x-request-id"
# An id from a proxy or client is kept only when it is short and plain: it goes into
# log lines and back into a response header.
_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")

# A made id need not be secret, only unique: a random prefix per process and a counter
# cost less than reading the system's random source on every request.
_PREFIX = token_hex(4)
_NEXT = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_NEXT) & 0xFFFFFFFF:08x}"


def route_of(scope: Scope) -> str:
    """The route template that answered, `/static` for a mount, or `<unmatched>`."""
    route: Any = scope.get("route")
    if route is not None:
        return str(route.path)
    return str(scope.get("root_path") or metrics.UNMATCHED)


def _incoming_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if _SAFE_ID.fullmatch(value) else None
    return None


class RequestObserver:
    def __init__(self, app: ASGIApp, *, access_log: AccessLog | None, metrics: bool) -> None:
        self.app = app
        self.log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope["headers"]) or new_request_id()
        REQUEST_ID.set(request_id)
        header = (HEADER, request_id.encode("ascii"))
        status = 500  # if the app fails before answering, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.setdefault("headers", [])
                if isinstance(headers, list):
                    headers.append(header)
                else:
                    message["headers"] = [*headers, header]
            await send(message)

        if self.log is None and not self.metrics:
            await self.app(scope, receive, send_with_id)
            return
        start = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_of(scope)
        method: str = scope["method"]
        if self.metrics:
            metrics.observe_request(method, route, status, seconds)
        if self.log is not None:
            client = scope.get("client")
            self.log.write(method, route, status, seconds, client[0] if client else None)
