"""Driving the pages as a browser would: fetch a form, post it with its CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from paced.core.mail import Mail
from paced.core.records import SecurityEvent
from paced.core.security_log import Origin
from paced.settings import Settings
from paced.storage.connection import StorageConnection
from paced.storage.database import Database

# Tests hash passwords cheaply; the production cost is tested in tests/core/test_passwords.py.
CHEAP_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
CHEAP_HASHING_ENV = {f"PACED_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient, page: str, action: str | None = None, **fields: str | list[str]
) -> httpx.Response:
    """GET `page`, then POST its form (to `action`, by default the same path)."""
    form_page = await client.get(page)
    assert form_page.status_code == 200, form_page.text
    data = {"csrf_token": csrf_token(form_page.text), **fields}
    return await client.post(action or page, data=data)


async def sign_up(
    client: httpx.AsyncClient,
    email: str = "ann@example.com",
    password: str = "correct horse battery",
    name: str = "Ann",
) -> httpx.Response:
    response = await submit(client, "/signup", email=email, password=password, name=name)
    assert response.status_code == 303, response.text
    return response


# Where the core's callers in tests say a request came from (the security log records it).
ORIGIN = Origin(ip="203.0.113.7", user_agent="pytest")


class MemoryLog:
    """The security log of a fake store: the events it was given, in order."""

    events: list[SecurityEvent]

    async def add_security_event(self, event: SecurityEvent) -> None:
        self.__dict__.setdefault("events", []).append(event)

    def event_names(self) -> list[str]:
        return [event.event for event in self.__dict__.get("events", [])]


class MemoryMail:
    """The mail queue of a fake store: the messages it was given, in order."""

    async def queue_mail(self, mail: Mail, *, message_id: str) -> None:
        self.__dict__.setdefault("queued_mail", []).append(mail)

    def mails(self) -> list[Mail]:
        found: list[Mail] = self.__dict__.get("queued_mail", [])
        return found


def listen_statements(database: Database, record: Callable[[str, Any], object]) -> None:
    """Have `record` hear the SQL of each statement the database sends, and its values."""
    database.plans.listeners.append(record)


def forget_statements(database: Database, record: Callable[[str, Any], object]) -> None:
    database.plans.listeners.remove(record)


@asynccontextmanager
async def begin(database: Database) -> AsyncIterator[StorageConnection]:
    """A unit of work's connection, for statements a test writes itself."""
    async with database.unit_of_work() as store:
        yield store.connection


@asynccontextmanager
async def connect(database: Database) -> AsyncIterator[StorageConnection]:
    """A read's connection, for statements a test writes itself."""
    async with database.reading() as store:
        yield store.connection


def user_values(n: int, at: datetime) -> dict[str, object]:
    """A row of `users`, the n-th of a test, as a statement's parameters."""
    return {
        "id": f"user_{n:024d}",
        "email": f"u{n}@example.com",
        "email_key": f"u{n}@example.com",
        "name": "Ann",
        "time_zone": "UTC",
        "password_hash": "h",
        "created_at": at,
        "updated_at": at,
    }


@asynccontextmanager
async def app_client(settings: Settings, clock: Any = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app made with `settings` (and `clock`), closed with it."""
    from paced.web.app import create_app

    app = create_app(settings, clock=clock) if clock is not None else create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.paced.rate_limits.aclose()
        await app.paced.database.close()
