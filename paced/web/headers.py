"""The security headers of every response; `paced.web.edge.Edge` adds them."""

from __future__ import annotations

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

# The paths of FastAPI's interactive docs, which get DOCS_CSP.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

RawHeaders = tuple[tuple[bytes, bytes], ...]


def security_headers(*, https: bool, docs: bool) -> RawHeaders:
    """As ASGI takes them. `https`: the base URL is https, so browsers are told to use
    nothing else from now on."""
    fixed = [
        (b"content-security-policy", (DOCS_CSP if docs else CSP).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if https:
        fixed.append((b"strict-transport-security", HSTS.encode()))
    return tuple(fixed)
