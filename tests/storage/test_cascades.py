"""Deleting a row takes what hangs on it (ON DELETE CASCADE), on every database: an app
goes with its secrets, grants, codes and tokens, and leaves every other app's alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from paced.core import apps
from paced.core.ids import digest, new_id
from paced.core.records import User
from paced.storage import models
from paced.storage.database import Database, open_database
from tests.helpers import ORIGIN, connect

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
FORM = apps.AppForm(name="Zapier", redirect_uris="https://zapier.example/cb")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


async def test_deleting_an_app_removes_its_secrets_grants_codes_and_tokens(
    database: Database,
) -> None:
    owner = new_id("user")
    async with database.unit_of_work() as store:
        user = User(owner, "owner@example.com", "", "UTC", NOW, NOW)
        await store.add_user(user=user, email_key=user.email, password_hash="x")
        app = (await apps.register(store, owner, FORM, NOW, public=False, origin=ORIGIN)).app
        kept = (await apps.register(store, owner, FORM, NOW, public=False, origin=ORIGIN)).app
    for target in (app, kept):
        grant_id = new_id("grant")
        rows = [
            (models.grants, {"id": grant_id, "app_id": target.id, "user_id": owner,
                             "scopes": "read", "created_at": NOW}),
            (models.authorization_codes, {"digest": digest(grant_id + "c"), "grant_id": grant_id,
                                          "redirect_uri": "https://zapier.example/cb",
                                          "created_at": NOW, "expires_at": NOW}),
            (models.access_tokens, {"id": grant_id + "a", "grant_id": grant_id,
                                    "digest": digest(grant_id + "a"), "scopes": "read",
                                    "created_at": NOW, "expires_at": NOW}),
            (models.refresh_tokens, {"id": grant_id + "r", "grant_id": grant_id,
                                     "digest": digest(grant_id + "r"), "scopes": "read",
                                     "created_at": NOW}),
        ]  # fmt: skip
        async with database.unit_of_work() as store:
            for table, values in rows:
                await store.connection.execute(insert(table).values(**values))

    async with database.unit_of_work() as store:
        await apps.delete(store, owner, app.id, NOW, origin=ORIGIN)
    tables = (
        models.client_secrets,
        models.grants,
        models.authorization_codes,
        models.access_tokens,
        models.refresh_tokens,
    )
    async with connect(database) as connection:
        counts = [
            (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            for table in tables
        ]
        left = (await connection.execute(select(models.apps.c.id))).scalars().all()
    assert counts == [1, 1, 1, 1, 1]  # only the other app's rows remain
    assert left == [kept.id]
