"""Security headers on every response (pure ASGI, so it costs the API almost nothing)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script anywhere; no framing anywhere (SPEC §7).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# FastAPI's /docs page loads Swagger UI from its CDN and boots it with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Two years, the preload list's minimum, for every name under the base URL's host too.
HSTS = "max-age=63072000; includeSubDomains"

Headers = tuple[tuple[str, str], ...]


def _headers(csp: str, *, https: bool) -> Headers:
    fixed = (
        ("Content-Security-Policy", csp),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    )
    return (*fixed, ("Strict-Transport-Security", HSTS)) if https else fixed


class SecurityHeaders:
    """`https`: the base URL is https, so browsers are told to use nothing else."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = _headers(CSP, https=https)
        self.docs_headers = _headers(DOCS_CSP, https=https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/docs/oauth2-redirect")
        added = self.docs_headers if docs else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
