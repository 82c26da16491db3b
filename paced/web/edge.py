"""`Edge`: the one middleware around the whole app, pure ASGI.

Per request, in one layer rather than one each (every layer wraps `send`, and the API's
answers are small enough for those wrappers to matter):

- an `X-Request-ID`, the proxy's when it is short and plain, else a new one;
- the body limit: a request that declares more than `PACED_MAX_BODY_BYTES` in
  `Content-Length` is refused before its body is read, one that sends more without
  saying so (chunked) as soon as the route reads past it (`BodyTooLarge`); 413 either
  way, in the error shape of its endpoint. A GET, HEAD or OPTIONS request is not
  counted: no route reads its body;
- the security headers (`paced.web.headers`), made once as bytes, and on every answer
  in the API's shape (under `/api/`) `Cache-Control: no-store` (an API answer is about
  one account, now);
- the declared JSON endpoints (`paced.web.endpoints`) are served from here, by their
  path, without the page routes' framework around them; every other request goes on
  to the app. A request to a declared endpoint, or under a path prefix that a group of
  endpoints claims (`/api/`), carries its error shape in the scope (`SHAPE`), so that
  an error met before or outside any endpoint (413, 404) is answered in that shape;
- when it is answered, what its access-log line and its request metrics say
  (`paced.web.answered`), named by the route template
  (`/settings/developer/tokens/{token_id}`), never by the raw path or query string.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable, Sequence
from secrets import token_hex
from time import perf_counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paced.logs import REQUEST_ID, Counted
from paced.web import metrics
from paced.web.answered import Answered
from paced.web.headers import RawHeaders, security_headers
from paced.web.limits import BodyTooLarge, declared_length

Refusal = Callable[[Request, int], Awaitable[Response]]

HEADER = b"x-request-id"
# An id from a proxy or client is kept only when it is short and plain: it goes into
# log lines and back into a response header.
_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
# The scope key of a request's error shape ("api" or "oauth"); absent for a page.
SHAPE = "paced.shape"
_CACHE_CONTROL = b"cache-control"
_NO_STORE = (_CACHE_CONTROL, b"no-store")

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


def _incoming_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == HEADER:
            return value if _SAFE_ID.fullmatch(value) else None
    return None


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        refuse: Refusal,
        https: bool = False,
        answered: Answered | None = None,
        endpoints: Sequence[Route] = (),
        claims: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        # Declared endpoints by path; one whose path has parameters is matched in turn.
        self.by_path = {r.path: r for r in endpoints if not r.param_convertors}
        self.with_parameters = [r for r in endpoints if r.param_convertors]
        # (path prefix, error shape) of the groups of endpoints that claim a prefix.
        self.claims = tuple(claims)
        self.max_body_bytes = max_body_bytes
        self.refuse = refuse
        # What every answer gets after its request id, made once: the security headers,
        # and for an answer in the API's shape no-store too.
        self.headers: RawHeaders = security_headers(https=https)
        self.api_headers: RawHeaders = (*self.headers, _NO_STORE)
        self.answered = answered
        self.counting = answered is not None and answered.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _incoming_id(scope["headers"])
        request_id = incoming.decode("ascii") if incoming else new_request_id()
        REQUEST_ID.set(request_id)
        # What the request counts in the metrics is counted with it, off the loop.
        counts: list[Counted] | None = [] if self.counting else None
        metrics.COUNTS.set(counts)
        endpoint = self._endpoint(scope)
        shape = getattr(endpoint, "shape", None) or self._claimed(scope["path"])
        if shape is not None:
            scope[SHAPE] = shape
        identified = (HEADER, incoming or request_id.encode("ascii"))
        api = shape == "api"
        added = self.api_headers if api else self.headers
        status = 500  # if the app fails before answering, the server answers 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                # A list of its own: the answer's may be sent to other requests too (a
                # refusal made once, paced.web.errors).
                if api:  # no-store replaces whatever the answer said (ASGI: names in lowercase)
                    sent = [h for h in headers if h[0] != _CACHE_CONTROL]
                else:
                    sent = list(headers)
                sent.append(identified)
                sent.extend(added)
                message["headers"] = sent
            await send(message)

        if scope["method"] not in _BODILESS:
            declared = declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                response = await self.refuse(Request(scope), self.max_body_bytes)
                await response(scope, receive, answer)
                self._record(scope, status, 0.0, counts)
                return
            # A declared length is what the server delivers, no more: only a body sent
            # without one (chunked) is counted as it is read.
            if declared is None:
                receive = self._counted(receive)
        app = endpoint.handle if endpoint is not None else self.app
        if self.answered is None:
            await app(scope, receive, answer)
            return
        start = perf_counter()
        try:
            await app(scope, receive, answer)
        finally:
            self._record(scope, status, perf_counter() - start, counts)

    def _claimed(self, path: str) -> str | None:
        for prefix, shape in self.claims:
            if path.startswith(prefix):
                return shape
        return None

    def _endpoint(self, scope: Scope) -> Route | None:
        """The declared endpoint at the request's path, named in the scope, or None."""
        route = self.by_path.get(scope["path"])
        if route is not None:
            scope["route"] = route
            scope["path_params"] = {}
        else:
            for candidate in self.with_parameters:
                match, child_scope = candidate.matches(scope)
                if match is not Match.NONE:
                    scope.update(child_scope)
                    route = candidate
                    break
            else:
                return None
        return route

    def _counted(self, receive: Receive) -> Receive:
        limit, received = self.max_body_bytes, 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return limited

    def _record(
        self, scope: Scope, status: int, seconds: float, counts: list[Counted] | None
    ) -> None:
        if self.answered is not None:
            client = scope.get("client")
            address = client[0] if client else None
            self.answered.add(scope["method"], route_of(scope), status, seconds, address, counts)
