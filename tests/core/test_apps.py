"""Registering, editing, deleting apps and rotating their secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paced.core import apps, token_format
from paced.core.client_auth import ClientCredentials, authenticate
from paced.core.errors import Conflict, Invalid, InvalidClient, NotFound
from paced.core.ids import digest, new_id
from paced.core.policy import Policy
from paced.core.records import App, Grant, NewToken, User
from tests.fakes import MemoryStore, unit_of_work
from tests.helpers import ORIGIN

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
FORM = apps.AppForm(
    name="  Zapier   sync ",
    redirect_uris="https://zapier.example/cb\r\n\r\nhttp://127.0.0.1/cb\n",
    homepage_url=" https://zapier.example ",
    description=" Moves mail. ",
)


async def add_user(memory: MemoryStore, email: str) -> str:
    user = User(new_id("user"), email, "", "UTC", NOW, NOW)
    async with unit_of_work(memory) as store:
        await store.add_user(user=user, email_key=email, password_hash="x")
    return user.id


@pytest.fixture
async def owner(memory: MemoryStore) -> str:
    return await add_user(memory, "owner@example.com")


async def register(
    memory: MemoryStore, owner: str, *, public: bool = False, form: apps.AppForm = FORM
) -> apps.Registered:
    async with unit_of_work(memory) as store:
        return await apps.register(store, owner, form, NOW, public=public, origin=ORIGIN)


async def auth(memory: MemoryStore, app: App, secret: str, when: datetime = NOW) -> App:
    async with unit_of_work(memory) as store:
        return await authenticate(
            store, ClientCredentials(app.client_id, secret, "client_secret_basic"), when, Policy()
        )


async def test_a_confidential_app_gets_a_client_id_and_one_secret(
    memory: MemoryStore, owner: str
) -> None:
    registered = await register(memory, owner)
    app = registered.app
    assert app.id.startswith("app_") and len(app.id) == 28
    assert len(app.client_id) >= 24 and app.client_id.isalnum() and "_" not in app.client_id
    assert app.name == "Zapier sync"
    assert app.redirect_uris == ("https://zapier.example/cb", "http://127.0.0.1/cb")
    assert app.homepage_url == "https://zapier.example" and app.description == "Moves mail."
    assert not app.public
    assert registered.client_secret is not None
    assert token_format.is_well_formed(registered.client_secret, "pt_client_")
    async with unit_of_work(memory) as store:
        client = await store.client_by_id(app.client_id)
        assert client is not None and client.app == app
        [live] = client.secrets
        assert live.digest == digest(registered.client_secret) and live.last_used_at is None
    [stored] = memory.rows("client_secrets")
    assert registered.client_secret not in str(stored)
    assert await auth(memory, app, registered.client_secret) == app


async def test_a_public_app_has_no_secret_and_may_use_a_private_scheme(
    memory: MemoryStore, owner: str
) -> None:
    form = apps.AppForm(name="Phone", redirect_uris="com.example.phone:/cb")
    registered = await register(memory, owner, public=True, form=form)
    assert registered.client_secret is None and registered.app.public
    async with unit_of_work(memory) as store:
        assert await apps.secrets(store, registered.app) == []
        with pytest.raises(Invalid, match="no client secret"):
            await apps.new_secret(store, owner, registered.app.id, NOW, origin=ORIGIN)


async def test_nothing_is_saved_until_every_field_is_right(memory: MemoryStore, owner: str) -> None:
    form = apps.AppForm(
        name="",
        redirect_uris="https://ok.example/cb\nhttp://example.com/cb\nhttps://x.example/#f",
        homepage_url="javascript:alert(1)",
        description="d" * 1001,
    )
    with pytest.raises(Invalid) as raised:
        await register(memory, owner, form=form)
    fields = raised.value.fields
    assert set(fields) == {"name", "redirect_uris", "homepage_url", "description"}
    assert fields["redirect_uris"].splitlines()[0].startswith("Line 2 (http://example.com/cb)")
    assert fields["redirect_uris"].splitlines()[1].startswith("Line 3 (https://x.example/#f)")
    async with unit_of_work(memory) as store:
        assert await apps.list_owned(store, owner) == []


async def test_rotation_keeps_both_secrets_working_until_the_first_is_deleted(
    memory: MemoryStore, owner: str
) -> None:
    registered = await register(memory, owner)
    app, first = registered.app, registered.client_secret
    assert first is not None
    async with unit_of_work(memory) as store:
        second = await apps.new_secret(
            store, owner, app.id, NOW + timedelta(hours=1), origin=ORIGIN
        )
        with pytest.raises(Conflict, match="already has 2 client secrets"):
            await apps.new_secret(store, owner, app.id, NOW, origin=ORIGIN)
    assert await auth(memory, app, first) == app
    assert await auth(memory, app, second.value) == app

    async with unit_of_work(memory) as store:
        listed = await apps.secrets(store, app)
        assert [s.last_used_at for s in listed] == [NOW, NOW]
        assert listed[1].created_at == NOW + timedelta(hours=1)
        await apps.delete_secret(store, owner, app.id, listed[0].id, NOW, origin=ORIGIN)
    with pytest.raises(InvalidClient):
        await auth(memory, app, first)
    assert await auth(memory, app, second.value) == app
    async with unit_of_work(memory) as store:
        third = await apps.new_secret(store, owner, app.id, NOW, origin=ORIGIN)
    assert await auth(memory, app, third.value) == app


async def test_another_users_app_does_not_exist_for_them(memory: MemoryStore, owner: str) -> None:
    registered = await register(memory, owner)
    app = registered.app
    stranger = await add_user(memory, "stranger@example.com")
    async with unit_of_work(memory) as store:
        secret_id = (await apps.secrets(store, app))[0].id
        attempts = [
            lambda: apps.owned(store, stranger, app.id),
            lambda: apps.update(store, stranger, app.id, FORM, NOW, origin=ORIGIN),
            lambda: apps.delete(store, stranger, app.id, NOW, origin=ORIGIN),
            lambda: apps.new_secret(store, stranger, app.id, NOW, origin=ORIGIN),
            lambda: apps.delete_secret(store, stranger, app.id, secret_id, NOW, origin=ORIGIN),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound):
                await attempt()
        assert await apps.list_owned(store, stranger) == []
        assert len(await apps.secrets(store, app)) == 1
        assert await apps.owned(store, owner, app.id) == app


async def test_update_changes_the_details_but_not_the_client_type(
    memory: MemoryStore, owner: str
) -> None:
    app = (await register(memory, owner)).app
    later = NOW + timedelta(days=1)
    form = apps.AppForm(name="Renamed", redirect_uris="https://new.example/cb")
    async with unit_of_work(memory) as store:
        changed = await apps.update(store, owner, app.id, form, later, origin=ORIGIN)
        assert await apps.owned(store, owner, app.id) == changed
        with pytest.raises(Invalid) as raised:
            await apps.update(
                store, owner, app.id, apps.AppForm("X", "com.example.app:/cb"), later, origin=ORIGIN
            )
    assert changed.redirect_uris == ("https://new.example/cb",)
    assert changed.client_id == app.client_id and changed.updated_at == later
    assert "public clients only" in raised.value.fields["redirect_uris"]


async def test_deleting_an_app_removes_its_secrets_grants_codes_and_tokens(
    memory: MemoryStore, owner: str
) -> None:
    app = (await register(memory, owner)).app
    kept = (await register(memory, owner)).app
    for target in (app, kept):
        grant = Grant(new_id("grant"), target.id, owner, ("read",), NOW, None, None)
        tokens = [
            NewToken(grant.id + kind, digest(grant.id + kind), ("read",), NOW) for kind in "ar"
        ]
        async with unit_of_work(memory) as store:
            await store.add_grant(grant, redirect_uri="https://zapier.example/cb")
            await store.add_authorization_code(
                digest=digest(grant.id + "c"),
                grant_id=grant.id,
                redirect_uri="https://zapier.example/cb",
                code_challenge=None,
                created_at=NOW,
                expires_at=NOW,
            )
            await store.add_tokens(grant.id, NOW, *tokens)

    async with unit_of_work(memory) as store:
        await apps.delete(store, owner, app.id, NOW, origin=ORIGIN)
    tables = ("client_secrets", "grants", "authorization_codes", "access_tokens", "refresh_tokens")
    # Only the other app's rows remain.
    assert [len(memory.rows(table)) for table in tables] == [1, 1, 1, 1, 1]
    assert [found["id"] for found in memory.rows("apps")] == [kept.id]
