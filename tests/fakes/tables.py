"""The fake's tables and what the database itself enforces: primary keys, unique
columns, foreign keys, ON DELETE CASCADE (as in paced/storage/models.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from tests.fakes.rows import (
    AccessTokenRow,
    AppRow,
    AuthorizationCodeRow,
    ChallengeRow,
    ClientSecretRow,
    DeviceCodeRow,
    GrantRow,
    LinkRow,
    MailRow,
    PasskeyRow,
    PersonalTokenRow,
    RecoveryCodeRow,
    RefreshTokenRow,
    SecurityEventRow,
    SessionRow,
    TotpRow,
    UserRow,
)


class ConstraintViolation(Exception):
    """What the database's IntegrityError would be."""


class KeyTaken(ConstraintViolation):
    """A primary key or unique column already has the value."""


class NoParent(ConstraintViolation):
    """A foreign key names no row."""


R = TypeVar("R")


@dataclass
class Table(Generic[R]):
    """A table's rows in insertion order. `key` and each of `unique` refuse a second row
    with the same values (NULLs never clash); `parents` maps a column to the table whose
    `id` it names, every one ON DELETE CASCADE as in the real schema."""

    name: str
    row_type: type[R]
    key: tuple[str, ...]
    unique: tuple[str, ...] = ()
    parents: Mapping[str, str] = field(default_factory=dict)
    rows: list[R] = field(default_factory=list)

    def where(self, **equal: object) -> list[R]:
        return [row for row in self.rows if _matches(row, equal)]

    def first(self, **equal: object) -> R | None:
        return next((row for row in self.rows if _matches(row, equal)), None)


def _matches(row: object, equal: Mapping[str, object]) -> bool:
    return all(getattr(row, column) == value for column, value in equal.items())


def _naming(column: str, ids: set[object]) -> Callable[[Any], bool]:
    """Whether a row's `column` names one of `ids`: the rows a cascade deletes."""
    return lambda row: getattr(row, column) in ids


def oldest_first(row: Any) -> tuple[datetime, str]:
    """ORDER BY created_at, id."""
    return (row.created_at, row.id)


def stale(last_used_at: datetime | None, unused_since: datetime) -> bool:
    """The condition of a last-used write: never used, or not since `unused_since`."""
    return last_used_at is None or last_used_at <= unused_since


class Tables:
    """The tables of paced/storage/models.py, by name."""

    def __init__(self) -> None:
        self.users = Table("users", UserRow, ("id",), ("email_key",))
        self.sessions = Table("sessions", SessionRow, ("digest",), ("id",), {"user_id": "users"})
        self.personal_tokens = Table(
            "personal_tokens", PersonalTokenRow, ("id",), ("digest",), {"user_id": "users"}
        )
        self.apps = Table("apps", AppRow, ("id",), ("client_id",), {"owner_id": "users"})
        self.client_secrets = Table(
            "client_secrets", ClientSecretRow, ("id",), ("digest",), {"app_id": "apps"}
        )
        self.grants = Table("grants", GrantRow, ("id",), (), {"app_id": "apps", "user_id": "users"})
        self.authorization_codes = Table(
            "authorization_codes", AuthorizationCodeRow, ("digest",), (), {"grant_id": "grants"}
        )
        self.device_codes = Table(
            "device_codes",
            DeviceCodeRow,
            ("digest",),
            ("user_code_digest",),
            {"app_id": "apps", "grant_id": "grants"},
        )
        self.access_tokens = Table(
            "access_tokens", AccessTokenRow, ("id",), ("digest",), {"grant_id": "grants"}
        )
        self.refresh_tokens = Table(
            "refresh_tokens", RefreshTokenRow, ("id",), ("digest",), {"grant_id": "grants"}
        )
        self.security_events = Table(
            "security_events", SecurityEventRow, ("id",), (), {"user_id": "users"}
        )
        self.one_time_links = Table(
            "one_time_links", LinkRow, ("digest",), (), {"user_id": "users"}
        )
        self.mail_queue = Table(
            "mail_queue", MailRow, ("id",), ("message_id",), {"user_id": "users"}
        )
        self.totp_credentials = Table(
            "totp_credentials", TotpRow, ("user_id",), (), {"user_id": "users"}
        )
        self.recovery_codes = Table(
            "recovery_codes", RecoveryCodeRow, ("user_id", "digest"), (), {"user_id": "users"}
        )
        self.passkeys = Table(
            "passkeys", PasskeyRow, ("id",), ("credential_id",), {"user_id": "users"}
        )
        self.webauthn_challenges = Table(
            "webauthn_challenges", ChallengeRow, ("challenge",), (), {"user_id": "users"}
        )
        self.by_name: dict[str, Table[Any]] = {
            table.name: table for table in vars(self).values() if isinstance(table, Table)
        }


class Rows:
    """What every part of the fake shares: its tables, and the database's rules on them."""

    db: Tables
    _serials: dict[str, int]

    def _insert(self, table: Table[R], row: R) -> None:
        def clashes(columns: tuple[str, ...]) -> bool:
            values = tuple(getattr(row, c) for c in columns)
            return None not in values and any(
                tuple(getattr(other, c) for c in columns) == values for other in table.rows
            )

        for columns in (table.key, *((c,) for c in table.unique)):
            if clashes(columns):
                raise KeyTaken(f"{table.name}: {columns} taken")
        for column, parent in table.parents.items():
            value = getattr(row, column)
            if value is not None and self.db.by_name[parent].first(id=value) is None:
                raise NoParent(f"{table.name}.{column}: no {parent} {value}")
        table.rows.append(row)

    def _insert_or_nothing(self, table: Table[R], row: R) -> bool:
        """INSERT … ON CONFLICT DO NOTHING (a missing parent is still an error): whether
        the row went in."""
        try:
            self._insert(table, row)
        except KeyTaken:
            return False
        return True

    def _try_insert(self, table: Table[R], row: R) -> bool:
        """An INSERT whose IntegrityError, whatever its cause, is caught: whether the row
        went in."""
        try:
            self._insert(table, row)
        except ConstraintViolation:
            return False
        return True

    def _delete(self, table: Table[R], doomed: Callable[[R], bool]) -> int:
        gone = [row for row in table.rows if doomed(row)]
        table.rows[:] = [row for row in table.rows if not doomed(row)]
        ids = {getattr(row, "id", None) for row in gone} - {None}
        for child in self.db.by_name.values():
            for column, parent in child.parents.items():
                if parent == table.name and ids:
                    self._delete(child, _naming(column, ids))
        return len(gone)

    def _serial(self, table: str) -> int:
        self._serials[table] += 1
        return self._serials[table]

    def _snapshot(self) -> tuple[dict[str, list[Any]], dict[str, int]]:
        rows = {name: copy.deepcopy(table.rows) for name, table in self.db.by_name.items()}
        return rows, dict(self._serials)

    def _restore(self, saved: tuple[dict[str, list[Any]], dict[str, int]]) -> None:
        rows, serials = saved
        for name, table in self.db.by_name.items():
            table.rows[:] = rows[name]
        self._serials = serials
