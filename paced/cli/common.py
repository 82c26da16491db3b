"""What every command group shares: settings, a store, JSON output, one-line errors."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from typer import _click as click  # the Click that Typer carries inside it
from typer.core import TyperArgument, TyperCommand, TyperOption

from paced.core import token_format
from paced.core.errors import PacedError
from paced.core.ids import IdPrefix, is_base62
from paced.settings import ConfigError, Settings
from paced.storage.database import open_database
from paced.storage.errors import Unavailable
from paced.storage.migrate import upgrade
from paced.storage.store import Store

T = TypeVar("T")


class Command(TyperCommand):
    """A command whose arguments read as the usage line names them (`ID`), without
    Typer's braces and value types (`{ID}`, `ID <str>`)."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        arguments = [
            (param.display_name_raw, param.help or "")
            for param in self.get_params(ctx)
            if isinstance(param, TyperArgument)
        ]
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        options = [
            record
            for param in self.get_params(ctx)
            if isinstance(param, TyperOption) and (record := param.get_help_record(ctx)) is not None
        ]
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


# Anything shaped like one of paced's secrets, in what an operator typed.
_SECRET = re.compile(r"pt_(?:secret|oauth|refresh|client)_[A-Za-z0-9]+")


def shown(text: str) -> str:
    """`text` with every secret-shaped value replaced by its hint: an operator who pasted
    a secret where an email or id belongs must not see it echoed into a terminal's
    scrollback or a CI log."""
    return _SECRET.sub(lambda found: token_format.hint(found.group()), text)


def fail(message: str) -> NoReturn:
    typer.echo(shown(message), err=True)
    raise typer.Exit(1)


def now() -> datetime:
    return datetime.now(UTC)  # shown to the second; see paced.web.state.system_clock


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value))


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def public_id(value: str, prefix: IdPrefix, *, listing: str) -> str:
    """`value` when it has the shape of a public id (`pat_…`); else exit 1 without
    echoing it, since an operator may have pasted a secret instead (secrets appear only
    in the `create` output, docs/reference.md §2)."""
    value = value.strip()
    if value.startswith(token_format.PREFIXES):
        fail(
            f"that looks like a secret, not an id: this command takes the id, {prefix}_…"
            f" (see `{listing}`)"
        )
    body = value.removeprefix(f"{prefix}_")
    if body == value or len(body) != 24 or not is_base62(body):
        fail(f"that is not an id of the form {prefix}_… (see `{listing}`)")
    return value


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        fail(f"invalid configuration: {first_problem(error)}")
    except Exception as error:  # pydantic's message is long; the first line says enough
        fail(f"invalid configuration: {str(error).splitlines()[0]}")


def first_problem(error: ValidationError) -> str:
    """One line naming the variable, where pydantic writes several."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if message.startswith("PACED_") or not first["loc"]:
        return message
    return f"PACED_{str(first['loc'][0]).upper()}: {message}"


def missing_database(settings: Settings) -> str | None:
    """Why a command that only reads cannot run: its SQLite file is not there. Opening it
    would create an empty database, and hide a wrong PACED_DATABASE_URL."""
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return (
            f"no database at {path.resolve()}: check PACED_DATABASE_URL"
            " (`paced db upgrade` creates one)"
        )
    return None


@asynccontextmanager
async def store_for(settings: Settings, *, write: bool = True) -> AsyncIterator[Store]:
    """A unit of work (or, with `write` False, a read) on an up-to-date database."""
    await upgrade(settings.database_url, db_timeout=settings.db_timeout)
    database = open_database(settings.database_url, pool_size=2, timeout=settings.db_timeout)
    try:
        if write:
            async with database.unit_of_work() as store:
                yield store
        else:
            async with database.reading() as store:
                yield store
    finally:
        await database.close()


def run(use_case: Callable[[Store], Awaitable[T]]) -> T:
    """Run one use case in one transaction; a rule broken becomes a one-line error."""
    settings = load_settings()

    async def main() -> T:
        async with store_for(settings) as store:
            return await use_case(store)

    return reporting(main)


def read(use_case: Callable[[Store], Awaitable[T]]) -> T:
    """Run a use case that only reads; never creates a database."""
    settings = load_settings()
    if problem := missing_database(settings):
        fail(problem)

    async def main() -> T:
        async with store_for(settings, write=False) as store:
            return await use_case(store)

    return reporting(main)


def reporting(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main`; a rule broken, or a database out of reach, becomes a one-line error."""
    try:
        return asyncio.run(main())
    except (PacedError, ConfigError) as error:
        message = str(error) or getattr(error, "error", "error")
        fields = getattr(error, "fields", None)
        if fields:
            message = "; ".join(f"{name}: {text}" for name, text in fields.items())
        fail(message)
    except BrokenPipeError:
        raise  # the reader left (`paced audit | head`): paced.cli.main ends quietly
    except (OSError, Unavailable) as error:
        fail(f"cannot reach the database: {error}")
