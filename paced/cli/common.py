"""What every command group shares: settings, a store, JSON output, one-line errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from paced.core.errors import PacedError
from paced.settings import ConfigError, Settings
from paced.storage.engine import create_engine, dispose
from paced.storage.migrate import upgrade
from paced.storage.store import Store
from paced.storage.unit_of_work import unit_of_work

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def now() -> datetime:
    return datetime.now(UTC)  # shown to the second; see paced.web.state.system_clock


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value))


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        fail(f"invalid configuration: {_first_problem(error)}")
    except Exception as error:  # pydantic's message is long; the first line says enough
        fail(f"invalid configuration: {str(error).splitlines()[0]}")


def _first_problem(error: ValidationError) -> str:
    """One line naming the variable, where pydantic writes several."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if message.startswith("PACED_") or not first["loc"]:
        return message
    return f"PACED_{str(first['loc'][0]).upper()}: {message}"


@asynccontextmanager
async def store_for(settings: Settings) -> AsyncIterator[Store]:
    """A unit of work on an up-to-date database."""
    engine = create_engine(settings.database_url, pool_size=2, timeout=settings.db_timeout)
    try:
        await upgrade(engine)
        async with unit_of_work(engine) as store:
            yield store
    finally:
        await dispose(engine)


def run(use_case: Callable[[Store], Awaitable[T]]) -> T:
    """Run one use case in one transaction; a rule broken becomes a one-line error."""
    settings = load_settings()

    async def main() -> T:
        async with store_for(settings) as store:
            return await use_case(store)

    return reporting(main)


def reporting(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main`; a rule broken becomes a one-line error."""
    try:
        return asyncio.run(main())
    except (PacedError, ConfigError) as error:
        message = str(error) or getattr(error, "error", "error")
        fields = getattr(error, "fields", None)
        if fields:
            message = "; ".join(f"{name}: {text}" for name, text in fields.items())
        fail(message)
    except OSError as error:
        print(f"cannot reach the database: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
