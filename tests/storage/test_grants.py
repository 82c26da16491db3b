"""GrantRows on every database: grants, codes, and revoking a family set-based."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from paced.core.ids import new_id, random_base62
from paced.core.records import Grant
from paced.storage.database import Database, open_database
from paced.storage.models import (
    access_tokens,
    apps,
    authorization_codes,
    grants,
    refresh_tokens,
    users,
)
from tests.helpers import begin, connect, forget_statements, listen_statements

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
REDIRECT = "https://client.example/cb"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


async def add_user(engine: Database, email: str) -> str:
    user_id = new_id("user")
    async with begin(engine) as connection:
        await connection.execute(
            insert(users).values(
                id=user_id,
                email=email,
                email_key=email,
                name="",
                time_zone="UTC",
                password_hash="x",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return user_id


async def add_app(engine: Database, owner_id: str, name: str) -> str:
    app_id = new_id("app")
    async with begin(engine) as connection:
        await connection.execute(
            insert(apps).values(
                id=app_id,
                owner_id=owner_id,
                name=name,
                description="",
                homepage_url="",
                client_id=random_base62(32),
                redirect_uris=json.dumps(["https://client.example/cb"]),
                public=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return app_id


async def add_grant(
    engine: Database,
    user_id: str,
    app_id: str,
    scopes: tuple[str, ...] = ("read",),
    redirect_uri: str = REDIRECT,
) -> Grant:
    grant = Grant(new_id("grant"), app_id, user_id, scopes, NOW, None, None)
    async with engine.unit_of_work() as store:
        await store.add_grant(grant, redirect_uri=redirect_uri)
    return grant


async def add_tokens(
    engine: Database, grant_id: str, count: int = 1, *, revoked_at: datetime | None = None
) -> None:
    async with begin(engine) as connection:
        for table in (access_tokens, refresh_tokens):
            for _ in range(count):
                values: dict[str, Any] = {
                    "id": random_base62(24),
                    "grant_id": grant_id,
                    "digest": random_base62(64),
                    "scopes": "read",
                    "created_at": NOW,
                    "expires_at": NOW + timedelta(hours=2),
                    "revoked_at": revoked_at,
                }
                await connection.execute(insert(table).values(**values))


async def revoked_at(engine: Database, table: Any, grant_id: str) -> list[datetime | None]:
    column = table.c.grant_id if table is not grants else table.c.id
    async with connect(engine) as connection:
        rows = await connection.execute(select(table.c.revoked_at).where(column == grant_id))
        return [row.revoked_at for row in rows]


@pytest.fixture
async def ann(engine: Database) -> str:
    return await add_user(engine, "ann@example.com")


@pytest.fixture
async def app_id(engine: Database, ann: str) -> str:
    return await add_app(engine, ann, "Client")


async def test_a_grant_round_trips_with_its_scopes(engine: Database, ann: str, app_id: str) -> None:
    grant = await add_grant(engine, ann, app_id, ("read", "write"))
    async with engine.unit_of_work() as store:
        assert [g for _, g in await store.live_grants_with_apps(ann, app_id)] == [grant]
        assert await store.live_grants_with_apps(ann, "app_other") == []


async def test_the_scopes_granted_are_those_of_every_unrevoked_grant(
    engine: Database, ann: str, app_id: str
) -> None:
    for _ in range(3):
        await add_grant(engine, ann, app_id, ("read",))
    revoked = await add_grant(engine, ann, app_id, ("read", "write"))
    async with engine.unit_of_work() as store:
        await store.revoke_grant(revoked.id, NOW)
        assert await store.granted_scopes(ann, app_id, REDIRECT) == {"read"}
        assert await store.granted_scopes(ann, "app_other", REDIRECT) == frozenset()
    await add_grant(engine, ann, app_id, ("read", "write"))
    async with engine.reading() as store:
        assert await store.granted_scopes(ann, app_id, REDIRECT) == {"read", "write"}


async def test_the_scopes_granted_are_those_approved_for_exactly_this_redirect_uri(
    engine: Database, ann: str, app_id: str
) -> None:
    await add_grant(engine, ann, app_id, ("read",), "http://127.0.0.1:50001/cb")
    await add_grant(engine, ann, app_id, ("write",), "http://127.0.0.1:50002/cb")
    # A grant from before redirect URIs were recorded (migration 0003) matches none.
    async with begin(engine) as connection:
        await connection.execute(
            insert(grants).values(
                id=new_id("grant"), app_id=app_id, user_id=ann, scopes="read write", created_at=NOW
            )
        )
    async with engine.reading() as store:
        assert await store.granted_scopes(ann, app_id, "http://127.0.0.1:50001/cb") == {"read"}
        assert await store.granted_scopes(ann, app_id, "http://127.0.0.1:50002/cb") == {"write"}
        assert await store.granted_scopes(ann, app_id, "http://127.0.0.1/cb") == frozenset()


async def test_an_authorization_code_is_stored_by_digest_with_its_bindings(
    engine: Database, ann: str, app_id: str
) -> None:
    grant = await add_grant(engine, ann, app_id)
    async with engine.unit_of_work() as store:
        await store.add_authorization_code(
            digest="d" * 64,
            grant_id=grant.id,
            redirect_uri="https://client.example/cb",
            code_challenge="c" * 43,
            created_at=NOW,
            expires_at=NOW + timedelta(minutes=10),
        )
    async with connect(engine) as connection:
        (row,) = (await connection.execute(select(authorization_codes))).all()
    assert row.digest == "d" * 64
    assert row.grant_id == grant.id
    assert row.redirect_uri == "https://client.example/cb"
    assert row.code_challenge == "c" * 43
    assert row.expires_at == NOW + timedelta(minutes=10)
    assert row.used_at is None


async def test_live_grants_with_apps_lists_the_users_unrevoked_grants_with_their_apps(
    engine: Database, ann: str, app_id: str
) -> None:
    bob = await add_user(engine, "bob@example.com")
    other_app = await add_app(engine, bob, "Other")
    mine = await add_grant(engine, ann, app_id)
    other = await add_grant(engine, ann, other_app, ("write",))
    await add_grant(engine, bob, app_id)
    revoked = await add_grant(engine, ann, app_id)
    async with engine.unit_of_work() as store:
        await store.revoke_grant(revoked.id, NOW)
        listed = await store.live_grants_with_apps(ann)
        assert {(a.id, g.id) for a, g in listed} == {(app_id, mine.id), (other_app, other.id)}
        assert [g.id for _, g in await store.live_grants_with_apps(ann, app_id)] == [mine.id]
        app, _ = listed[0]
        assert app.name in ("Client", "Other")
        assert app.redirect_uris == ("https://client.example/cb",)


async def test_revoke_grant_ends_the_grant_and_every_token_of_it(
    engine: Database, ann: str, app_id: str
) -> None:
    grant = await add_grant(engine, ann, app_id)
    sibling = await add_grant(engine, ann, app_id)
    await add_tokens(engine, grant.id, 3)
    await add_tokens(engine, grant.id, 1, revoked_at=NOW - timedelta(days=1))
    await add_tokens(engine, sibling.id, 2)
    async with engine.unit_of_work() as store:
        await store.revoke_grant(grant.id, NOW)
    assert await revoked_at(engine, grants, grant.id) == [NOW]
    for table in (access_tokens, refresh_tokens):
        # Tokens revoked earlier keep the time they were revoked.
        assert sorted(await revoked_at(engine, table, grant.id)) == [
            NOW - timedelta(days=1),
            NOW,
            NOW,
            NOW,
        ]
        # Another approval of the same app by the same user is untouched (docs/reference.md §6).
        assert await revoked_at(engine, table, sibling.id) == [None, None]
    assert await revoked_at(engine, grants, sibling.id) == [None]


async def test_revoke_grant_twice_keeps_the_first_time(
    engine: Database, ann: str, app_id: str
) -> None:
    grant = await add_grant(engine, ann, app_id)
    await add_tokens(engine, grant.id)
    async with engine.unit_of_work() as store:
        await store.revoke_grant(grant.id, NOW)
        await store.revoke_grant(grant.id, LATER)
    assert await revoked_at(engine, grants, grant.id) == [NOW]
    assert await revoked_at(engine, access_tokens, grant.id) == [NOW]


async def test_revoke_user_app_grants_ends_every_grant_of_that_user_to_that_app_only(
    engine: Database, ann: str, app_id: str
) -> None:
    bob = await add_user(engine, "bob@example.com")
    other_app = await add_app(engine, bob, "Other")
    first = await add_grant(engine, ann, app_id)
    second = await add_grant(engine, ann, app_id, ("write",))
    bobs = await add_grant(engine, bob, app_id)
    elsewhere = await add_grant(engine, ann, other_app)
    for grant in (first, second, bobs, elsewhere):
        await add_tokens(engine, grant.id, 2)
    async with engine.unit_of_work() as store:
        assert await store.revoke_user_app_grants(ann, app_id, NOW) == 2
        assert await store.revoke_user_app_grants(ann, app_id, LATER) == 0
    for grant in (first, second):
        assert await revoked_at(engine, grants, grant.id) == [NOW]
        assert await revoked_at(engine, access_tokens, grant.id) == [NOW, NOW]
        assert await revoked_at(engine, refresh_tokens, grant.id) == [NOW, NOW]
    for grant in (bobs, elsewhere):
        assert await revoked_at(engine, grants, grant.id) == [None]
        assert await revoked_at(engine, access_tokens, grant.id) == [None, None]


@pytest.mark.parametrize("tokens", [1, 40], ids=["one token", "forty tokens"])
async def test_revocation_is_set_based_three_statements_however_many_tokens(
    engine: Database, ann: str, app_id: str, tokens: int
) -> None:
    grant = await add_grant(engine, ann, app_id)
    await add_tokens(engine, grant.id, tokens)
    statements: list[str] = []

    def record(statement: str, _values: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "SELECT", "DELETE")):
            statements.append(statement)

    listen_statements(engine, record)
    try:
        async with engine.unit_of_work() as store:
            await store.revoke_user_app_grants(ann, app_id, NOW)
    finally:
        forget_statements(engine, record)
    assert len(statements) == 3
    assert all(s.lstrip().upper().startswith("UPDATE") for s in statements)
