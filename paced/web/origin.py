"""Where a request came from, for the security log and the rate limits."""

from __future__ import annotations

from starlette.requests import Request

from paced.core.security_log import MAX_USER_AGENT, Origin


def client_ip(request: Request) -> str:
    """The peer's address; behind PACED_TRUSTED_PROXIES, the client's they forwarded."""
    return request.client.host if request.client else ""


def origin_of(request: Request) -> Origin:
    return Origin(
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:MAX_USER_AGENT],
    )
