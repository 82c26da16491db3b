"""The one executor of storage's statements: each is compiled once for its database into
a `Plan`, which runs on the driver itself (sqlite3 on a SQLite file, asyncpg on
PostgreSQL), inside the unit of work's transaction, and answers `Rows` of named tuples.

SQLAlchemy Core builds the statements (and the schema, and the migrations); its
execution (execution context, events, result metadata, and on PostgreSQL a greenlet
switch and its asyncpg adapter) is not used: it cost several times a statement itself
(docs/benchmarks.md).

A statement's plan is found by SQLAlchemy's own cache key, which is the same for two
statements built alike whatever literal values they hold, with the names of the
parameters it is run with. The literal values (`where(users.c.id == user_id)`) are taken
from each execution's statement, as SQLAlchemy takes them (`construct_params` with the
cache key's extracted parameters); a plan whose parameters are all given by name at each
execution skips that step. The plans are kept in a bounded LRU: statements built with
varying structure (the purge's, the listings' optional filters) would otherwise grow it
for ever. A statement object run before finds its plan by itself, without hashing its
cache key again (the module constants of the token endpoint, above all).

Expanding parameters (`column.in_([...])`) and `literal_execute` ones are rendered at
each execution by SQLAlchemy's own `_process_parameters_for_postcompile`, from the one
compiled statement: the number of values, and for `literal_execute` the values
themselves, are part of the SQL, so a plan keyed by lengths alone would be wrong for the
latter.

Values are converted as SQLAlchemy would on the way in (the dialect's bind processors)
and on the way out (its result processors). A statement that cannot take this path (no
cache key, a column default computed in Python, several sets of parameters) raises
`Uncompilable`: a bug to fix where the statement is written.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict, namedtuple
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Dialect, Executable, exc
from sqlalchemy.sql.cache_key import CacheKey

Processor = Callable[[Any], Any] | None
Parameters = Mapping[str, Any] | None
# One set of parameters, or for a write run once per set (executemany), a list of them.
Given = Mapping[str, Any] | list[Mapping[str, Any]] | None

# Plans kept per database: every statement storage writes, a few times over (as many
# as SQLAlchemy's own compiled cache keeps).
PLANS_KEPT = 500
# Rows fetched at a time by `stream`.
STREAM_BATCH = 500


class Uncompilable(Exception):
    """A statement the executor cannot run: a bug in the statement, never a slower path
    taken quietly."""


class Plans:
    """The plans of one database's statements, made on first use. `listeners` are told
    the SQL of each statement as it is sent, and its values (for tests that count
    statements or look at what is stored)."""

    __slots__ = ("_plans", "_seen", "dialect", "listeners", "size")

    def __init__(self, dialect: Dialect, *, size: int = PLANS_KEPT) -> None:
        self.dialect = dialect
        self.size = size
        self.listeners: list[Callable[[str, Any], object]] = []
        self._plans: OrderedDict[tuple[object, tuple[str, ...]], Plan] = OrderedDict()
        # The plan of a statement object already run, by its parameters' names: the
        # statements built once at import skip hashing their cache key at each run. An
        # entry goes with its statement.
        self._seen: WeakKeyDictionary[Executable, dict[tuple[str, ...], tuple[Plan, CacheKey]]]
        self._seen = WeakKeyDictionary()

    def plan(self, statement: Executable, given: Given) -> tuple[Plan, CacheKey]:
        parameters = _first(given)
        names = tuple(parameters) if parameters else ()
        try:
            seen = self._seen.get(statement)
        except TypeError:  # not a statement at all
            seen = None
        if seen is not None:
            known = seen.get(names)
            if known is not None:
                if isinstance(given, list) and (known[0].returns_rows or known[0].expands):
                    raise Uncompilable(f"several sets of parameters for {known[0].sql}")
                return known
        generate = getattr(statement, "_generate_cache_key", None)
        key: CacheKey | None = generate() if generate is not None else None
        if key is None:
            raise Uncompilable(f"a statement SQLAlchemy cannot cache: {statement!r}")
        index = (key.key, names)
        found = self._plans.get(index)
        if found is None:
            found = self._plans[index] = Plan(statement, key, names, self.dialect)
            if len(self._plans) > self.size:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(index)
        if isinstance(given, list) and (found.returns_rows or found.expands):
            raise Uncompilable(f"several sets of parameters for {found.sql}")
        self._seen.setdefault(statement, {})[names] = (found, key)
        return found, key

    def heard(self, sql: str, values: Any) -> None:
        for listener in self.listeners:
            listener(sql, values)


class Plan:
    """A statement compiled for one database, with the conversions SQLAlchemy would apply
    to each parameter on the way in and each column on the way out."""

    __slots__ = (
        "_columns",
        "_compiled",
        "_converted",
        "_processors",
        "binds",
        "expands",
        "is_dml",
        "is_text",
        "returns_rows",
        "row",
        "sql",
    )

    def __init__(
        self, statement: Executable, key: CacheKey, names: tuple[str, ...], dialect: Dialect
    ) -> None:
        try:
            compiled: Any = statement._compiler(  # type: ignore[attr-defined]
                dialect, cache_key=key, column_keys=sorted(names), for_executemany=False
            )
        except Exception as error:
            raise Uncompilable(f"cannot compile {statement!r}: {error}") from error
        # models.py gives no column a default computed in Python: every value is the
        # statement's or the database's own (server_default).
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise Uncompilable(f"a column default computed in Python: {compiled.string}")
        if not compiled.positional or compiled.positiontup is None:
            raise Uncompilable(f"not a positional statement: {compiled.string}")
        self._compiled = compiled
        self.sql: str = compiled.string
        self._processors: dict[str, Any] = dict(compiled._bind_processors)
        self.expands = bool(compiled.post_compile_params or compiled.literal_execute_params)
        self.is_text = bool(compiled.isplaintext)
        self.is_dml = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
        self.returns_rows = bool(compiled._result_columns) or self.is_text
        # In the order of the placeholders (`?` on SQLite, `$1`, `$2` … on PostgreSQL),
        # the name each value is given by, with its conversion; None when some value
        # is the statement's own, taken at each execution (`bound`).
        self.binds: list[tuple[str, Processor]] | None = None
        if not self.expands:
            given = [compiled.binds[name].key for name in compiled.positiontup]
            if all(name in names for name in given):
                self.binds = [
                    (name, self._processors.get(position))
                    for name, position in zip(given, compiled.positiontup, strict=True)
                ]
        entries = compiled._result_columns
        self._columns: list[Processor] = [
            entry.type._cached_result_processor(dialect, None) for entry in entries
        ]
        self._converted = [(i, p) for i, p in enumerate(self._columns) if p is not None]
        keys: list[str] = [entry.keyname for entry in entries]
        selected = getattr(statement, "selected_columns", None)
        if selected is not None and len(selected) == len(keys):
            keys = list(selected.keys())
        self.row: Any = _row_type(keys) if keys else None

    def bound(self, parameters: Parameters, key: CacheKey) -> tuple[str, list[Any]]:
        """The SQL and its values, in the order of its placeholders, converted."""
        if self.binds is not None:
            given: Mapping[str, Any] = parameters or {}
            return self.sql, [
                given[name] if process is None else process(given[name])
                for name, process in self.binds
            ]
        compiled = self._compiled
        try:
            values = compiled.construct_params(
                parameters,
                escape_names=False,
                extracted_parameters=key.bindparams,
                _collected_params=key.params,
            )
            sql, positions, processors = self.sql, compiled.positiontup, self._processors
            if self.expands:
                expanded = compiled._process_parameters_for_postcompile(values)
                sql, positions = expanded.statement, expanded.positiontup
                processors = {**processors, **expanded.processors}
        except exc.SQLAlchemyError as error:  # a parameter not given, above all
            raise Uncompilable(f"cannot run {self.sql}: {error}") from error
        return sql, [
            processors[name](values[name]) if name in processors else values[name]
            for name in positions
        ]

    def rows(self, fetched: Any, names: list[str] | None = None) -> list[Any]:
        """Named rows of what the driver fetched, converted. `names`: the columns' names
        as the driver gives them, for a text statement (which declares none)."""
        if self.row is None:
            self.row = _row_type(names or [])
        make, converted = self.row._make, self._converted
        if not converted:
            return [make(row) for row in fetched]
        made = []
        for row in fetched:
            values = list(row)
            for index, process in converted:
                values[index] = process(values[index])
            made.append(make(values))
        return made

    # --- sqlite3 ---------------------------------------------------------------------

    def first_sqlite(self, raw: sqlite3.Connection, values: tuple[Any, ...]) -> Any:
        """The first row of a SELECT, else None: a lookup by a unique key reads no
        further. `values` are in the order of the placeholders, past any conversion."""
        row = raw.execute(self.sql, values).fetchone()
        if row is None:
            return None
        converted = list(row)
        for index, process in self._converted:
            converted[index] = process(converted[index])
        return tuple.__new__(self.row, converted)  # `_make`, without its length check

    def run_sqlite(
        self, raw: sqlite3.Connection, parameters: Given, key: CacheKey, plans: Plans
    ) -> Rows:
        if isinstance(parameters, list):
            sets = [self.bound(each, key)[1] for each in parameters]
            if plans.listeners:
                plans.heard(self.sql, sets)
            return Rows([], raw.executemany(self.sql, sets).rowcount)
        sql, values = self.bound(parameters, key)
        if plans.listeners:
            plans.heard(sql, values)
        cursor = raw.execute(sql, values)
        if cursor.description is None:
            return Rows([], cursor.rowcount)
        rows = self.rows(cursor.fetchall(), _sqlite_names(cursor))
        return Rows(rows, len(rows) if self.is_dml else cursor.rowcount)

    def stream_sqlite(
        self, raw: sqlite3.Connection, parameters: Parameters, key: CacheKey, plans: Plans
    ) -> Generator[list[Any], None, None]:
        sql, values = self.bound(parameters, key)
        if plans.listeners:
            plans.heard(sql, values)
        cursor = raw.execute(sql, values)
        try:
            while batch := cursor.fetchmany(STREAM_BATCH):
                yield self.rows(batch, _sqlite_names(cursor))
        finally:
            cursor.close()

    # --- asyncpg ---------------------------------------------------------------------

    async def run_asyncpg(self, raw: Any, parameters: Given, key: CacheKey, plans: Plans) -> Rows:
        if isinstance(parameters, list):
            sets = [self.bound(each, key)[1] for each in parameters]
            if plans.listeners:
                plans.heard(self.sql, sets)
            await raw.executemany(self.sql, sets)
            return Rows([], -1)  # asyncpg tells no count of an executemany
        sql, values = self.bound(parameters, key)
        if plans.listeners:
            plans.heard(sql, values)
        if self.is_text:  # whether it returns rows, and its columns, are the server's
            prepared = await raw.prepare(sql)
            fetched = await prepared.fetch(*values)
            names = [attribute.name for attribute in prepared.get_attributes()]
            return Rows(
                self.rows(fetched, names) if names else [], _count(prepared.get_statusmsg())
            )
        if self.returns_rows:
            rows = self.rows(await raw.fetch(sql, *values))
            return Rows(rows, len(rows) if self.is_dml else -1)
        return Rows([], _count(await raw.execute(sql, *values)))

    async def stream_asyncpg(
        self, raw: Any, parameters: Parameters, key: CacheKey, plans: Plans
    ) -> AsyncGenerator[list[Any], None]:
        """Inside a transaction, as a server-side cursor."""
        sql, values = self.bound(parameters, key)
        if plans.listeners:
            plans.heard(sql, values)
        cursor = await raw.cursor(sql, *values)
        while batch := await cursor.fetch(STREAM_BATCH):
            yield self.rows(batch, list(batch[0].keys()))


def _first(given: Given) -> Parameters:
    """The set of parameters a statement is planned by: every set of a list must name the
    same parameters."""
    if given is None or isinstance(given, Mapping):
        return given
    if not isinstance(given, list) or not given or not all(isinstance(m, Mapping) for m in given):
        raise Uncompilable("parameters are a mapping, or a non-empty list of mappings")
    names = set(given[0])
    if any(set(each) != names for each in given):
        raise Uncompilable("each set of parameters must name the same parameters")
    return given[0]


def _row_type(names: list[str]) -> Any:
    return namedtuple("Row", names, rename=True)


def _sqlite_names(cursor: sqlite3.Cursor) -> list[str]:
    return [column[0] for column in cursor.description or ()]


def _count(status: str) -> int:
    """The rows a command changed, from its tag: "UPDATE 1", "INSERT 0 1", "DELETE 3"."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else -1


class Rows:
    """A statement's rows (named tuples), or for a write, how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        """The first column of the first row, else None."""
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalars(self) -> Rows:
        """The first column of each row."""
        return Rows([row[0] for row in self._rows], self.rowcount)
