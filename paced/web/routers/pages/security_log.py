"""/settings/security-log (docs/reference.md §7): this account's security events, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Query
from starlette.responses import Response

from paced.core import security_log, user_agents
from paced.core.records import SecurityEvent, User
from paced.web.deps import SignedIn

router = APIRouter(include_in_schema=False)

PAGE = "/settings/security-log"


@dataclass(frozen=True, slots=True)
class Line:
    """One event as the page shows it, in plain words."""

    title: str
    about: str
    who: str
    ip: str
    user_agent: str
    browser: str  # the user agent in words: "Chrome 131 on macOS"
    created_at: datetime
    alarm: bool


ALARMS = frozenset(
    {
        "sign_in_failed",
        "refresh_token_reused",
        "authorization_code_replayed",
        "credential_leaked",
        "client_secret_leaked",
    }
)


def _about(event: SecurityEvent) -> str:
    """What the event concerns: a token's or an app's name, the scopes, an email."""
    detail = event.detail
    parts = []
    if isinstance(name := detail.get("name"), str) and name:
        parts.append(f"\u201c{name}\u201d")
    if isinstance(hint := detail.get("hint"), str) and hint:
        parts.append(hint)
    if isinstance(scopes := detail.get("scopes"), list) and scopes:
        parts.append("scopes: " + ", ".join(str(s) for s in scopes))
    if isinstance(email := detail.get("email"), str) and email:
        parts.append(email)
    if isinstance(method := detail.get("method"), str) and method:
        parts.append(f"with {'a' if method != 'authenticator app' else 'the'} {method}")
    if isinstance(browser := detail.get("browser"), str) and browser:
        parts.append(browser + (f", {detail['ip']}" if detail.get("ip") else ""))
    if isinstance(left := detail.get("left"), int) and not isinstance(left, bool):
        parts.append(f"{left} left")
    return "; ".join(parts)


def _who(event: SecurityEvent, user: User) -> str:
    if event.actor == user.id:
        return "You"
    if event.actor == security_log.OPERATOR:
        return "An operator"
    if event.actor == security_log.ANONYMOUS:
        return "Someone"
    if event.actor == event.detail.get("client_id"):
        return f"The application \u201c{event.detail.get('name')}\u201d"
    return event.actor


def line(event: SecurityEvent, user: User) -> Line:
    return Line(
        title=security_log.title(event.event),
        about=_about(event),
        who=_who(event, user),
        ip=event.ip,
        user_agent=event.user_agent,
        browser=user_agents.describe(event.user_agent) if event.user_agent else "",
        created_at=event.created_at,
        alarm=event.event in ALARMS,
    )


@router.get(PAGE)
async def security_log_page(
    context: SignedIn, page: int = Query(1, ge=1, le=security_log.MAX_PAGE)
) -> Response:
    user = context.user
    assert user is not None  # SignedIn guarantees it
    async with context.state.database.reading() as store:
        found = await security_log.page_of(store, user.id, page)
    return context.render(
        "settings/security_log.html",
        {"page": found, "lines": [line(event, user) for event in found.events]},
    )
