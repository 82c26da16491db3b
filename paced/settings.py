"""Configuration (SPEC §1): the only reader of the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paced.core.passwords import Hashing
from paced.core.policy import Policy


class ConfigError(Exception):
    """A configuration that cannot run; its message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PACED_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite:///./paced.db"
    base_url: str = ""
    secret_key: str = ""
    redis_url: str = ""
    access_token_ttl: int = Field(7200, gt=0)
    auth_code_ttl: int = Field(600, gt=0)
    refresh_token_ttl: int = Field(0, ge=0)
    refresh_token_max_age: int = Field(0, ge=0)
    refresh_reuse_grace: int = Field(0, ge=0)
    session_idle_days: int = Field(14, gt=0)
    db_pool_size: int = Field(10, gt=0)
    db_timeout: float = Field(30.0, gt=0)
    # argon2id cost; a hash made with other values is redone at the next login.
    password_time_cost: int = Field(3, ge=1)
    password_memory_kib: int = Field(65536, ge=8)
    password_parallelism: int = Field(4, ge=1)
    # For bench/ only: serves /bench/floor, the API's JSON with no authentication and no
    # database, as the yardstick for every other scenario.
    bench_floor: bool = False

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, or None for PostgreSQL and in-memory SQLite."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        path = path.split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)

    def with_port(self, host: str, port: int) -> Settings:
        """Fill in the default base URL once the port is known."""
        if self.base_url:
            return self
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        if ":" in shown:
            shown = f"[{shown}]"
        return self.model_copy(update={"base_url": f"http://{shown}:{port}"})

    def resolved_secret_key(self) -> str:
        """The configured key, or on SQLite one generated once beside the database file."""
        if self.secret_key:
            return self.secret_key
        path = self.sqlite_path
        if not self.is_sqlite:
            raise ConfigError(
                "PACED_SECRET_KEY must be set (and equal on every node) when the database is "
                "PostgreSQL."
            )
        if path is None:
            return secrets.token_urlsafe(32)
        key_file = path.with_name(path.name + ".secret-key")
        try:
            return key_file.read_text().strip()
        except FileNotFoundError:
            pass
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return key_file.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key

    def policy(self) -> Policy:
        def optional(seconds: int) -> timedelta | None:
            return timedelta(seconds=seconds) if seconds else None

        return Policy(
            access_token_ttl=timedelta(seconds=self.access_token_ttl),
            auth_code_ttl=timedelta(seconds=self.auth_code_ttl),
            refresh_token_ttl=optional(self.refresh_token_ttl),
            refresh_token_max_age=optional(self.refresh_token_max_age),
            refresh_reuse_grace=timedelta(seconds=self.refresh_reuse_grace),
            session_idle=timedelta(days=self.session_idle_days),
            password_hashing=Hashing(
                time_cost=self.password_time_cost,
                memory_kib=self.password_memory_kib,
                parallelism=self.password_parallelism,
            ),
        )
