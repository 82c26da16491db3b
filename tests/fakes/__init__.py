"""`MemoryStore`: every storage protocol of the core over plain lists, for the core's tests.

It keeps the tables of `paced.storage.models` as lists of rows with the same columns
(tests/fakes/rows.py), and each of its modules does what the module of `paced.storage`
with the same name does: the same conditions on its conditional updates (so a
single-use thing is spent by one caller only), the same uniqueness refusals, the same
ordering, the same cascades on delete (tests/fakes/tables.py). What only a real database
can show (SQL, locks, concurrent transactions, migrations) is tested on both databases in
tests/storage/.

`unit_of_work(store)` stands for `Database.unit_of_work()` (paced.storage.database): it
commits when the block ends normally or with a `PacedError`, and rolls every table back on
any other exception. Units take turns, as SQLite's writers do, so units gathered at once
run one after the other (`MemoryStore.lose_next` stages the race they never run); a unit
opened inside another fails at once instead of waiting for itself.

mypy checks that the class implements each protocol (tests/fakes/protocols.py);
tests/test_fakes.py checks that every protocol of the core is among them, and that the
tables have the columns, keys and cascades of the real schema.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from paced.core.errors import PacedError
from tests.fakes.apps import AppRows
from tests.fakes.bearer import BearerRows
from tests.fakes.device_codes import DeviceCodeRows
from tests.fakes.grants import GrantRows
from tests.fakes.mail import MailRows
from tests.fakes.oauth_tokens import OAuthTokenRows
from tests.fakes.one_time_links import LinkRows
from tests.fakes.personal_tokens import PersonalTokenRows
from tests.fakes.security_log import SecurityEventRows
from tests.fakes.tables import ConstraintViolation, Tables
from tests.fakes.two_factor import TwoFactorRows
from tests.fakes.users import SessionRows, UserRows

__all__ = ["ConstraintViolation", "MemoryStore", "reading", "unit_of_work"]


class MemoryStore(
    UserRows,
    SessionRows,
    AppRows,
    GrantRows,
    DeviceCodeRows,
    PersonalTokenRows,
    OAuthTokenRows,
    BearerRows,
    SecurityEventRows,
    LinkRows,
    MailRows,
    TwoFactorRows,
):
    """Every storage protocol of the core, over in-memory tables. `calls` names each
    protocol method called, in order."""

    def __init__(self) -> None:
        self.db = Tables()
        self._serials = {"security_events": 0, "mail_queue": 0}
        self.calls: list[str] = []
        self._rivals: set[str] = set()
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    def rows(self, table: str, **equal: object) -> list[dict[str, object]]:
        """The rows of `table` whose columns have these values, as the database has them."""
        return [asdict(row) for row in self.db.by_name[table].where(**equal)]

    def row(self, table: str, **equal: object) -> dict[str, object]:
        """The one row that matches: as SQLAlchemy's `.one()`, an error otherwise."""
        (found,) = self.rows(table, **equal)
        return found

    def lose_next(self, method: str) -> None:
        """Let the next call of `method` come second: the same call is made just before
        it, as by a concurrent request whose conditional update won the race."""
        self._rivals.add(method)


def _recorded(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(self: MemoryStore, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(name)
        if name in self._rivals:
            self._rivals.remove(name)
            await method(self, *args, **kwargs)
        return await method(self, *args, **kwargs)

    return call


for _name, _method in inspect.getmembers(MemoryStore, inspect.iscoroutinefunction):
    if not _name.startswith("_"):
        setattr(MemoryStore, _name, _recorded(_name, _method))


@asynccontextmanager
async def unit_of_work(store: MemoryStore) -> AsyncIterator[MemoryStore]:
    """As `Database.unit_of_work()`: everything the block wrote stays when
    it ends normally or with a `PacedError`, and is undone on any other exception."""
    task = asyncio.current_task()
    if store._holder is not None and store._holder is task:
        raise RuntimeError("a unit of work inside another would wait for itself")
    async with store._turn:
        store._holder = task
        saved = store._snapshot()
        try:
            yield store
        except PacedError:
            raise
        except BaseException:
            store._restore(saved)
            raise
        finally:
            store._holder = None


@asynccontextmanager
async def reading(store: MemoryStore) -> AsyncIterator[MemoryStore]:
    """As `Database.reading()`: without waiting for a writer's turn."""
    yield store
