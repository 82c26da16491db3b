"""`paced.storage.purge` on every database: exactly what stopped working long enough ago
goes, a batch at a time, and nothing that still works or is still shown."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select

from paced.core.ids import new_id, random_base62
from paced.storage.database import Database, open_database
from paced.storage.models import (
    access_tokens,
    apps,
    authorization_codes,
    device_codes,
    grants,
    mail_queue,
    one_time_links,
    personal_tokens,
    refresh_tokens,
    security_events,
    sessions,
    webauthn_challenges,
)
from paced.storage.purge import Retention, purge
from tests.helpers import begin, connect, listen_statements
from tests.token_rows import add_user

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RETENTION = Retention(
    codes=DAY,
    oauth_tokens=30 * DAY,
    personal_tokens=90 * DAY,
    session_idle=14 * DAY,
    security_events=365 * DAY,
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


class World:
    """Rows inserted as the service stores them, each named for whether purge keeps it."""

    def __init__(self, engine: Database, user_id: str, app_id: str) -> None:
        self.engine = engine
        self.user_id = user_id
        self.app_id = app_id
        self.kept: dict[str, set[str]] = {}
        self.gone: dict[str, set[str]] = {}

    async def add(self, table: Table, keep: bool, **values: Any) -> str:
        key = table.primary_key.columns.keys()[0]
        values.setdefault(key, f"{table.name[:4]}_{random_base62(20)}")
        async with begin(self.engine) as connection:
            await connection.execute(insert(table).values(**values))
        (self.kept if keep else self.gone).setdefault(table.name, set()).add(str(values[key]))
        return str(values[key])

    async def grant(self, keep: bool = True, revoked_at: datetime | None = None) -> str:
        return await self.add(
            grants,
            keep,
            id=new_id("grant"),
            app_id=self.app_id,
            user_id=self.user_id,
            scopes="read",
            created_at=NOW - 400 * DAY,
            revoked_at=revoked_at,
        )


async def world(engine: Database) -> World:
    user = await add_user(engine, NOW - 400 * DAY)
    app_id = new_id("app")
    async with begin(engine) as connection:
        await connection.execute(
            insert(apps).values(
                id=app_id,
                owner_id=user.id,
                name="Zapier",
                description="",
                homepage_url="",
                client_id=random_base62(32),
                redirect_uris=json.dumps(["https://client.example/cb"]),
                public=False,
                created_at=NOW - 400 * DAY,
                updated_at=NOW - 400 * DAY,
            )
        )
    return World(engine, user.id, app_id)


async def ids(engine: Database, table: Table) -> set[str]:
    (key,) = table.primary_key.columns
    async with connect(engine) as connection:
        return {str(value) for value in (await connection.execute(select(key))).scalars()}


async def test_purge_deletes_exactly_what_expired_or_was_revoked_long_enough_ago(
    engine: Database,
) -> None:
    w = await world(engine)
    live = await w.grant()
    old_revoked = await w.grant(keep=False, revoked_at=NOW - 31 * DAY)
    await w.grant(keep=True, revoked_at=NOW - 29 * DAY)

    def code(keep: bool, *, used: timedelta | None = None, expires: timedelta = DAY) -> Any:
        return w.add(
            authorization_codes,
            keep,
            digest=random_base62(64),
            grant_id=live,
            redirect_uri="",
            created_at=NOW - expires - timedelta(minutes=10),
            expires_at=NOW - expires,
            used_at=None if used is None else NOW - used,
        )

    await code(True, expires=-timedelta(minutes=5))  # live
    await code(True, used=timedelta(hours=2), expires=-timedelta(minutes=5))  # used lately
    await code(False, used=2 * DAY, expires=2 * DAY)  # used two days ago
    await code(False, expires=timedelta(hours=25))  # expired over a day ago
    await code(True, expires=timedelta(hours=23))  # expired within the day

    def device_code(keep: bool, expires: timedelta) -> Any:
        return w.add(
            device_codes,
            keep,
            digest=random_base62(64),
            user_code_digest=random_base62(64),
            app_id=w.app_id,
            scopes="read",
            created_at=NOW - expires - timedelta(minutes=15),
            expires_at=NOW - expires,
            poll_interval=5,
            next_poll_at=NOW - expires - timedelta(minutes=15),
        )

    await device_code(True, -timedelta(minutes=5))  # live
    await device_code(True, timedelta(hours=23))  # expired within the day
    await device_code(False, timedelta(hours=25))  # expired over a day ago

    def token(table: Table, keep: bool, grant: str = live, **times: Any) -> Any:
        values = {"expires_at": NOW + DAY, **times}
        if table is refresh_tokens and "expires_at" not in times:
            values["expires_at"] = None
        return w.add(
            table,
            keep,
            grant_id=grant,
            digest=random_base62(64),
            scopes="read",
            created_at=NOW - 60 * DAY,
            **values,
        )

    await token(access_tokens, True)
    await token(access_tokens, True, expires_at=NOW - 29 * DAY)
    await token(access_tokens, False, expires_at=NOW - 31 * DAY)
    await token(access_tokens, False, revoked_at=NOW - 31 * DAY)
    await token(access_tokens, False, grant=old_revoked, revoked_at=NOW - 31 * DAY)
    await token(refresh_tokens, True)
    await token(refresh_tokens, True, rotated_at=NOW - 29 * DAY)  # a replay still revokes
    await token(refresh_tokens, False, rotated_at=NOW - 31 * DAY)
    await token(refresh_tokens, False, revoked_at=NOW - 31 * DAY)
    await token(refresh_tokens, False, expires_at=NOW - 31 * DAY)
    await token(refresh_tokens, False, grant=old_revoked, revoked_at=NOW - 31 * DAY)

    def personal(keep: bool, **times: Any) -> Any:
        return w.add(
            personal_tokens,
            keep,
            id=new_id("pat"),
            user_id=w.user_id,
            name="t",
            digest=random_base62(64),
            scopes="read",
            created_at=NOW - 200 * DAY,
            **times,
        )

    await personal(True)  # never expires
    await personal(True, expires_at=NOW - 89 * DAY)  # still shown, as history
    await personal(False, expires_at=NOW - 91 * DAY)
    await personal(True, revoked_at=NOW - 89 * DAY)
    await personal(False, revoked_at=NOW - 91 * DAY)

    def session(keep: bool, seen: timedelta) -> Any:
        return w.add(
            sessions,
            keep,
            digest=random_base62(64),
            user_id=w.user_id,
            ip="",
            user_agent="",
            created_at=NOW - 30 * DAY,
            last_seen_at=NOW - seen,
        )

    await session(True, 13 * DAY)
    await session(False, 14 * DAY)
    await session(False, 20 * DAY)

    def logged(keep: bool, age: timedelta) -> Any:
        return w.add(
            security_events,
            keep,
            id=len(w.kept.get("security_events", ())) + len(w.gone.get("security_events", ())) + 1,
            user_id=w.user_id,
            event="sign_in",
            actor=w.user_id,
            ip="",
            user_agent="",
            detail="{}",
            created_at=NOW - age,
        )

    await logged(True, 364 * DAY)
    await logged(False, 366 * DAY)

    def challenge(keep: bool, expires_in: timedelta) -> Any:
        return w.add(
            webauthn_challenges,
            keep,
            binding="b" * 64,
            purpose="sign_in",
            expires_at=NOW + expires_in,
        )

    await challenge(True, timedelta(minutes=1))
    await challenge(False, -timedelta(minutes=1))

    # Clients that registered themselves (no owner): kept for a day, and for as long as
    # they hold a grant; an app with an owner is never purged.
    w.kept.setdefault("apps", set()).add(w.app_id)

    def client(keep: bool, age: timedelta, owner: str | None = None) -> Any:
        return w.add(
            apps,
            keep,
            id=new_id("app"),
            owner_id=owner,
            name="Self-registered",
            description="",
            homepage_url="",
            client_id=random_base62(32),
            redirect_uris="[]",
            public=True,
            created_at=NOW - age,
            updated_at=NOW - age,
            registration="dynamic",
        )

    await client(True, 23 * DAY / 24)
    await client(False, 25 * DAY / 24)
    await client(False, 400 * DAY)
    await client(True, 400 * DAY, owner=w.user_id)
    granted = await client(True, 400 * DAY)
    await w.add(
        grants,
        True,
        id=new_id("grant"),
        app_id=granted,
        user_id=w.user_id,
        scopes="read",
        created_at=NOW - 399 * DAY,
    )

    deleted = await purge(engine, RETENTION, NOW, batch_size=2)

    tables = (
        authorization_codes,
        device_codes,
        access_tokens,
        refresh_tokens,
        grants,
        personal_tokens,
        sessions,
        security_events,
        one_time_links,
        mail_queue,
        webauthn_challenges,
        apps,
    )
    assert deleted == {t.name: len(w.gone.get(t.name, ())) for t in tables}
    for table in tables:
        assert await ids(engine, table) == w.kept.get(table.name, set()), table.name
    # Nothing is left to purge.
    assert set((await purge(engine, RETENTION, NOW)).values()) == {0}


async def test_every_batch_is_a_short_transaction_of_its_own(engine: Database) -> None:
    w = await world(engine)
    for _ in range(7):
        await w.add(
            sessions,
            False,
            digest=random_base62(64),
            user_id=w.user_id,
            ip="",
            user_agent="",
            created_at=NOW - 30 * DAY,
            last_seen_at=NOW - 30 * DAY,
        )
    deletes: list[int] = []

    def count_deletes(statement: str, _values: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM SESSIONS"):
            deletes.append(1)

    listen_statements(engine, count_deletes)
    deleted = await purge(engine, RETENTION, NOW, batch_size=3)
    assert deleted["sessions"] == 7
    assert len(deletes) == 3  # 3 + 3 + 1
    async with connect(engine) as connection:
        left = (await connection.execute(select(func.count()).select_from(sessions))).scalar()
    assert left == 0
