"""The core tests' in-memory store (tests/fakes/) keeps up with what it stands for: every
storage protocol of the core is checked by mypy against it, its tables have the columns,
keys and cascades of the real schema, and its unit of work commits and rolls back as the
real one does."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

import paced.core
from paced.core.errors import InvalidGrant
from paced.core.records import User
from paced.storage import models
from tests import fakes
from tests.fakes import MemoryStore, protocols, reading, unit_of_work

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Protocols of the core that are not storage.
NOT_STORAGE = {"DocumentFetcher"}


def core_protocols() -> set[str]:
    found = set()
    for module_info in pkgutil.iter_modules(paced.core.__path__):
        module = importlib.import_module(f"paced.core.{module_info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and getattr(value, "_is_protocol", False)
            ):
                found.add(name)
    return found - NOT_STORAGE


def test_mypy_checks_the_store_against_every_storage_protocol_of_the_core() -> None:
    checked = {hint.__name__ for hint in typing.get_type_hints(protocols).values()}
    assert core_protocols() - checked == set()


@pytest.mark.parametrize("table", sorted(models.metadata.tables), ids=str)
def test_a_table_has_the_columns_keys_and_cascades_of_the_schema(table: str) -> None:
    real = models.metadata.tables[table]
    fake = MemoryStore().db.by_name[table]
    assert {f.name for f in fields(fake.row_type)} == set(real.columns.keys())
    assert set(fake.key) == {c.name for c in real.primary_key.columns}
    assert set(fake.unique) == {c.name for c in real.columns if c.unique}
    assert dict(fake.parents) == {
        key.parent.name: key.column.table.name for key in real.foreign_keys
    }
    assert {key.ondelete for key in real.foreign_keys} <= {"CASCADE"}


def test_every_table_of_the_schema_is_kept() -> None:
    assert set(MemoryStore().db.by_name) == set(models.metadata.tables)


async def add_ann(store: MemoryStore) -> bool:
    user = User("user_ann", "ann@example.com", "Ann", "UTC", NOW, NOW)
    return await store.add_user(user=user, email_key="ann@example.com", password_hash="h")


async def test_a_unit_ended_by_a_paced_error_keeps_its_writes() -> None:
    memory = MemoryStore()
    with pytest.raises(InvalidGrant):
        async with unit_of_work(memory) as store:
            await add_ann(store)
            raise InvalidGrant("refused")
    assert len(memory.rows("users")) == 1


async def test_a_unit_ended_by_another_error_undoes_every_write() -> None:
    memory = MemoryStore()
    with pytest.raises(RuntimeError):
        async with unit_of_work(memory) as store:
            await add_ann(store)
            raise RuntimeError("a bug")
    assert memory.rows("users") == []


async def test_a_unit_inside_another_fails_at_once() -> None:
    memory = MemoryStore()
    async with unit_of_work(memory):
        with pytest.raises(RuntimeError, match="inside another"):
            async with unit_of_work(memory):
                pass
        async with reading(memory) as store:  # reading takes no turn
            assert await store.all_users() == []


async def test_a_taken_key_and_a_missing_parent_are_refused_as_the_database_does() -> None:
    memory = MemoryStore()
    assert await add_ann(memory) is True
    assert await add_ann(memory) is False  # add_user: False when the email is taken
    with pytest.raises(fakes.ConstraintViolation):
        await memory.add_session(
            id="s", digest="d", user_id="user_nobody", now=NOW, ip="", user_agent=""
        )


async def test_calls_are_recorded_and_a_race_can_be_lost() -> None:
    memory = MemoryStore()
    await add_ann(memory)
    await memory.add_link(
        digest="d",
        user_id="user_ann",
        purpose="verify_email",
        now=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    memory.lose_next("use_link")
    assert await memory.use_link("d", "verify_email", NOW) is False
    assert memory.calls == ["add_user", "add_link", "use_link"]
