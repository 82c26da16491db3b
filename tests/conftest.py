from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import paced
from paced.settings import Settings
from paced.web.app import create_app
from tests import databases
from tests.helpers import CHEAP_HASHING

# The processes tests start (`paced serve`, the console script) run this tree's paced,
# not the copy the virtualenv installed, which may be another checkout's.
SOURCE = Path(paced.__file__).resolve().parents[1]
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")])
)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Every `async def` test runs under anyio, without a marker on each."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=databases.backends())
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend, made once per session."""
    folder: Path = tmp_path_factory.mktemp("db")
    with databases.empty_database(request.param, folder) as url:
        databases.migrate(url)
        yield url


@pytest.fixture
def database_url(migrated_database: str) -> Iterator[str]:
    """The session's database, emptied again after the test."""
    yield migrated_database
    databases.wipe(migrated_database)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-key-for-paced-tests-only",
        **CHEAP_HASHING,
    )


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    try:
        yield application
    finally:
        await application.paced.rate_limits.aclose()
        await application.paced.database.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
