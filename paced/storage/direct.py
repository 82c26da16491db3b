"""Statements that run on the database driver itself, past SQLAlchemy's execution.

SQLAlchemy's execution around a statement (execution context, events, result metadata,
and on PostgreSQL a greenlet switch and its asyncpg adapter) costs several times the
statement itself: on this project's machine about 140 µs of CPU a round trip on
PostgreSQL against 50 on asyncpg alone, and a refresh grant makes seven round trips
(docs/benchmarks.md). The statements of the token endpoint, built once at import, are
marked with `direct`; compiled once for each database, with the same conversions of
values SQLAlchemy would apply on the way in and out, they run on the driver's own
connection, inside the unit of work's transaction: sqlite3 on a SQLite file
(paced/storage/sqlite.py), asyncpg on PostgreSQL (paced/storage/postgres.py).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import Dialect, Executable, exc
from sqlalchemy.sql.expression import ClauseElement, Insert, Select, Update

Statement = TypeVar("Statement", Select[Any], Insert, Update)
Processor = Callable[[Any], Any] | None

# The execution option that marks a statement `direct`.
DIRECT = "paced_direct"


class Uncompilable(Exception):
    """A statement marked `direct` that cannot run on the driver itself: a bug to fix
    where the statement is written, never a slower path taken quietly."""


def direct(statement: Statement) -> Statement:
    """Mark a statement built once at import (parameters as `bindparam`s) to run on the
    driver itself. It must be a plain statement: no defaults computed in Python, no
    expanding parameters, every parameter given at each execution (else `Uncompilable`)."""
    return statement.execution_options(**{DIRECT: True})


class Plans:
    """The plans of one database's direct statements, made on first use."""

    __slots__ = ("_dialect", "_plans")

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        # Keyed by the statement itself (module constants, compared by identity) and
        # the names of the parameters it is run with.
        self._plans: dict[tuple[object, tuple[str, ...]], Plan] = {}

    def plan(self, statement: Executable, parameters: object) -> Plan | None:
        """The plan of a statement marked `direct`; None for any other statement."""
        if not statement._execution_options.get(DIRECT):
            return None
        if not isinstance(parameters, dict):
            raise Uncompilable("a direct statement takes one dict of parameters")
        key = (statement, tuple(parameters))
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = Plan(statement, key[1], self._dialect)  # type: ignore[arg-type]
        return found


class Plan:
    """A statement compiled for one database with the conversions SQLAlchemy would apply
    to each parameter on the way in and each column on the way out."""

    __slots__ = ("binds", "columns", "converted", "row", "sql")

    def __init__(self, statement: ClauseElement, names: tuple[str, ...], dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=list(names))
        if compiled.positiontup is None or compiled.insert_prefetch or compiled.update_prefetch:
            raise Uncompilable(f"not a plain statement: {compiled.string}")
        self.sql: str = compiled.string
        # In the order of the placeholders: `?` on SQLite, `$1`, `$2` … on PostgreSQL.
        self.binds: list[tuple[str, Processor]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding or name not in names:
                raise Uncompilable(f"parameter {name!r} is expanding or not given")
            self.binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        self.row: Any = None
        self.columns: list[Processor] = []
        if isinstance(statement, Select):
            selected = statement.selected_columns
            self.row = namedtuple("Row", selected.keys())  # type: ignore[misc]
            self.columns = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in selected
            ]
        # The columns that have a conversion, each with it.
        self.converted = [(i, p) for i, p in enumerate(self.columns) if p is not None]

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        return [
            parameters[name] if process is None else process(parameters[name])
            for name, process in self.binds
        ]

    def rows(self, fetched: Any) -> Rows:
        make, processors = self.row._make, self.columns
        return Rows(
            [
                make([v if p is None else p(v) for v, p in zip(row, processors, strict=True)])
                for row in fetched
            ],
            -1,
        )

    def first_sqlite(self, raw: sqlite3.Connection, values: tuple[Any, ...]) -> Any:
        """The first row of a SELECT on a sqlite3 connection, else None: a lookup by a
        unique key reads no further. `values` are the parameters' own, in the order of
        the placeholders, past any conversion."""
        try:
            row = raw.execute(self.sql, values).fetchone()
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(
                self.sql, None, error, sqlite3.Error, hide_parameters=True
            ) from error
        if row is None:
            return None
        converted = list(row)
        for index, process in self.converted:
            converted[index] = process(converted[index])
        return tuple.__new__(self.row, converted)  # `_make`, without its length check

    def run_sqlite(self, raw: sqlite3.Connection, parameters: Mapping[str, Any]) -> Rows:
        try:
            cursor = raw.execute(self.sql, self.values(parameters))
            if self.row is None:
                return Rows([], cursor.rowcount)
            fetched = cursor.fetchall()
        except sqlite3.Error as error:
            # As SQLAlchemy raises it (errors.py maps a locked database to 503), with
            # the parameters hidden: they are digests of secrets.
            raise exc.DBAPIError.instance(
                self.sql, None, error, sqlite3.Error, hide_parameters=True
            ) from error
        return self.rows(fetched)

    async def run_asyncpg(self, raw: Any, parameters: Mapping[str, Any]) -> Rows:
        """On an asyncpg connection. Its errors are raised as they are: errors.py answers
        503 for those of an unreachable database, as for the Bearer check's own reads."""
        values = self.values(parameters)
        if self.row is not None:
            return self.rows(await raw.fetch(self.sql, *values))
        status: str = await raw.execute(self.sql, *values)
        # The command tag: "UPDATE 1", "INSERT 0 1", "DELETE 3".
        return Rows([], int(status.rpartition(" ")[2]))


class Rows:
    """The part of a `Result` that storage reads from a direct statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None
