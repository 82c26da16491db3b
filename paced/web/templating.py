"""Jinja2 filters shared by every page."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from paced.core import scopes


def exact_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@lru_cache(maxsize=4096)
def iso_time(value: datetime | None) -> str:
    """ISO 8601 in UTC, to the second. Cached: the API writes a user's same two times on
    every request of theirs."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_date(value: datetime | None, time_zone: str = "UTC") -> str:
    """'5 January 2027': the day `value` falls on in the reader's time zone."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    day = value.astimezone(zone)
    months = (
        "January February March April May June July August September October November December"
    ).split()
    return f"{day.day} {months[day.month - 1]} {day.year}"


def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago', 'in 29 days': the exact time goes in a title attribute beside it."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    future, seconds = seconds > 0, abs(seconds)
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("day", 86_400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in a moment" if future else "just now"


def configure(env: jinja2.Environment) -> None:
    env.filters["exact_time"] = exact_time
    env.filters["iso_time"] = iso_time
    env.filters["ago"] = relative_time
    env.filters["local_date"] = local_date
    env.globals["scope_descriptions"] = scopes.DESCRIPTIONS
    env.globals["all_scopes"] = scopes.ALL
