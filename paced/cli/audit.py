"""`paced audit`: the security log, for operators; one JSON object a line, oldest first."""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, datetime

import typer

from paced.cli.common import (
    fail,
    iso,
    load_settings,
    missing_database,
    print_json,
    reporting,
    shown,
    store_for,
)
from paced.core import accounts
from paced.core.errors import NotFound
from paced.core.security_log import EVENTS
from paced.settings import Settings
from paced.storage.security_log import AuditQuery


def _time(value: str | None) -> datetime | None:
    """An ISO 8601 date or time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{shown(repr(value))} is not an ISO 8601 time, such as 2026-01-15 or"
            " 2026-01-15T12:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _event(value: str | None) -> str | None:
    if value is not None and value not in EVENTS:
        raise typer.BadParameter(f"{value!r} is not an event; the events are: {', '.join(EVENTS)}")
    return value


async def _audit(settings: Settings, email: str | None, query: AuditQuery) -> int:
    async with store_for(settings, write=False) as store:
        if email is not None:
            user = await store.user_by_email(accounts.email_key(email))
            if user is None:
                raise NotFound(f"unknown user: {email}")
            query = AuditQuery(user.id, query.event, query.since, query.until)
        count = 0
        # Closed before the store is, even when the reader of stdout left (a closed pipe).
        async with aclosing(store.audit(query)) as events:
            async for event, user_email in events:
                print_json(
                    {
                        "id": event.id,
                        "time": iso(event.created_at),
                        "event": event.event,
                        "user_id": event.user_id,
                        "email": user_email,
                        "actor": event.actor,
                        "ip": event.ip,
                        "user_agent": event.user_agent,
                        "detail": dict(event.detail),
                    }
                )
                count += 1
        return count


def audit(
    user: str | None = typer.Option(
        None, "--user", metavar="EMAIL", help="Only this account's events."
    ),
    event: str | None = typer.Option(
        None,
        "--event",
        metavar="EVENT",
        callback=_event,
        help=f"Only this event: {', '.join(EVENTS)}.",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="TIME",
        help="From this time on (ISO 8601; UTC unless it says otherwise).",
    ),
    until: str | None = typer.Option(
        None, "--until", metavar="TIME", help="Before this time (ISO 8601)."
    ),
) -> None:
    """Print the security log as JSON lines, oldest first.

    Sign-ins, tokens, apps, grants and detected attacks, each with who acted, from which
    address, and when.
    """
    query = AuditQuery(event=event, since=_time(since), until=_time(until))
    settings = load_settings()
    if problem := missing_database(settings):
        fail(problem)
    reporting(lambda: _audit(settings, user, query))
