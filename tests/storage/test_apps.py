"""AppRows on every database: the ClientStore the OAuth endpoints share, and app rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from paced.core.ids import digest, new_id
from paced.core.records import App, Client, ClientSecret, SecretDigest, User
from paced.storage.database import Database, open_database

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        await engine.close()


async def make_app(engine: Database, *, public: bool = False) -> App:
    user = User(new_id("user"), "o@example.com", "O", "UTC", NOW, NOW)
    app = App(
        id=new_id("app"),
        owner_id=user.id,
        name="Zapier",
        description="",
        homepage_url="",
        client_id="c" * 32,
        redirect_uris=("https://example.com/cb", "http://127.0.0.1/cb"),
        public=public,
        created_at=NOW,
        updated_at=NOW,
    )
    async with engine.unit_of_work() as store:
        await store.add_user(user=user, email_key="o@example.com", password_hash="x")
        await store.add_app(app)
    return app


async def test_app_round_trips_with_its_redirect_uris_in_order(engine: Database) -> None:
    app = await make_app(engine)
    async with engine.unit_of_work() as store:
        assert await store.app_by_client_id(app.client_id) == app
        assert await store.app_by_client_id("nope") is None
        assert await store.app_of_owner(app.id, app.owner_id) == app
        assert await store.app_of_owner(app.id, "user_someone_else") is None


async def test_at_most_the_limit_of_secrets(engine: Database) -> None:
    app = await make_app(engine)
    async with engine.unit_of_work() as store:
        for n in range(3):
            added = await store.add_client_secret(
                ClientSecret(f"s{n}", app.id, NOW + timedelta(seconds=n), None),
                digest(f"secret {n}"),
                limit=2,
            )
            assert added is (n < 2)
        assert [s.id for s in await store.client_secrets(app.id)] == ["s0", "s1"]
        client = await store.client_by_id(app.client_id)
        assert client is not None and client.app == app
        assert sorted(client.secrets) == [
            ("s0", digest("secret 0"), None),
            ("s1", digest("secret 1"), None),
        ]
        assert await store.delete_client_secret("app_other", "s0") is False
        assert await store.delete_client_secret(app.id, "s0") is True
        assert [s.id for s in await store.client_secrets(app.id)] == ["s1"]


async def test_a_client_is_read_with_its_secrets_in_one_statement(engine: Database) -> None:
    app = await make_app(engine)
    async with engine.unit_of_work() as store:
        assert await store.client_by_id("nope") is None
        assert await store.client_by_id(app.client_id) == Client(app, ())  # no secret yet
        used = NOW + timedelta(hours=1)
        await store.add_client_secret(ClientSecret("s0", app.id, NOW, used), "d" * 64, limit=2)
        assert await store.client_by_id(app.client_id) == Client(
            app, (SecretDigest("s0", "d" * 64, used),)
        )


async def test_last_used_is_written_only_over_one_older_than_the_cutoff(
    engine: Database,
) -> None:
    # The core says how old a last use may be before it is written again (its Policy).
    app = await make_app(engine)

    async def touch(when: datetime) -> None:
        await store.touch_client_secret("s", when, unused_since=when - timedelta(minutes=1))

    async with engine.unit_of_work() as store:
        await store.add_client_secret(ClientSecret("s", app.id, NOW, None), "d" * 64, limit=2)
        await touch(NOW)
        await touch(NOW + timedelta(seconds=59))
        assert (await store.client_secrets(app.id))[0].last_used_at == NOW
        await touch(NOW + timedelta(seconds=60))
        assert (await store.client_secrets(app.id))[0].last_used_at == NOW + timedelta(seconds=60)
