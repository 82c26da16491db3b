"""The security headers of every response; `paced.web.edge.Edge` adds them."""

from __future__ import annotations

# No inline script anywhere, /docs included; no framing anywhere (docs/reference.md, "Pages").
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Two years, the preload list's minimum, for every name under the base URL's host too.
HSTS = "max-age=63072000; includeSubDomains"

RawHeaders = tuple[tuple[bytes, bytes], ...]


def security_headers(*, https: bool) -> RawHeaders:
    """As ASGI takes them. `https`: the base URL is https, so browsers are told to use
    nothing else from now on."""
    fixed = [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if https:
        fixed.append((b"strict-transport-security", HSTS.encode()))
    return tuple(fixed)
