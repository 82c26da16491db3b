"""Configuration (docs/reference.md §1): the only reader of the environment."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import limits
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paced.core.passwords import Hashing
from paced.core.policy import Policy
from paced.secret_key import MIN_BYTES, from_file, weakness


class ConfigError(Exception):
    """A configuration that cannot run; its message is one line for the operator."""


def _split(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


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
    device_code_ttl: int = Field(900, gt=0)
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
    # Operations (docs/operations.md). Proxies whose X-Forwarded-For/-Proto are believed:
    # IP addresses or networks, comma-separated; none by default.
    trusted_proxies: str = ""
    # Prometheus metrics on a listener of their own; 0 is off. Never on the public port.
    metrics_port: int = Field(0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # One log line per request (`paced serve --no-access-log` turns it off).
    access_log: bool = True
    # json: one JSON object a line; text: for people; auto: text when stderr is a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    # Seconds in-flight requests get to finish after SIGTERM, before the process exits.
    shutdown_timeout: float = Field(20.0, ge=0)
    # Rate limits (docs/reference.md §6; docs/operations.md): "N/period" in the `limits` notation
    # ("10/10 minutes", "200/minute"), or "off".
    rate_limit_login_per_account: str = "10/10 minutes"  # failed sign-ins
    rate_limit_login_per_ip: str = "100/10 minutes"  # failed sign-ins
    rate_limit_signup_per_ip: str = "20/hour"  # accounts made, or emails found taken
    rate_limit_client_auth_per_client: str = "20/minute"  # failed client authentications
    rate_limit_client_auth_per_ip: str = "200/minute"  # failed client authentications
    # Token requests; a failed one counts rate_limit_token_failure_cost times.
    rate_limit_token_per_client: str = "3000/minute"  # noqa: S105 (a limit, not a secret)
    rate_limit_token_per_ip: str = "6000/minute"  # noqa: S105
    rate_limit_token_failure_cost: int = Field(10, ge=1)
    # Invalid Bearer tokens; counted in each process's memory, whatever PACED_REDIS_URL.
    rate_limit_bearer_failures_per_ip: str = "1000/minute"
    # Reports of leaked credentials (POST /api/v1/credentials/revoke), each counted.
    rate_limit_credential_reports_per_ip: str = "60/minute"
    # Wrong user codes typed at /device (RFC 8628 §5.1), per account.
    rate_limit_device_code_per_account: str = "10/10 minutes"
    # Prepended to every rate-limit key in Redis, so that services can share one server.
    redis_key_prefix: str = "paced"
    # Retention: what `paced purge` deletes, in days after a thing stopped working.
    purge_codes_after_days: int = Field(1, ge=0)
    purge_oauth_tokens_after_days: int = Field(30, ge=0)
    purge_personal_tokens_after_days: int = Field(90, ge=0)
    purge_security_events_after_days: int = Field(365, ge=1)
    purge_mail_after_days: int = Field(30, ge=0)
    purge_batch_size: int = Field(1000, ge=1, le=10_000)
    # Seconds without use (since creation, if never used) after which `paced purge`
    # revokes a personal access token and tells its owner; 0: never.
    pat_unused_revoke_after: int = Field(31_536_000, ge=0)
    # Mail (docs/accounts.md): SMTP when set, else one .eml file per message in the outbox.
    smtp_url: str = ""
    mail_outbox: str = "./paced-outbox"
    mail_from: str = ""  # default: Paced Email <no-reply@HOST of the base URL>
    # Password reset links asked for, per address (whether or not it has an account) and
    # per IP; verification links sent again, per account.
    rate_limit_password_reset_per_account: str = "5/hour"  # noqa: S105 (a limit)
    rate_limit_password_reset_per_ip: str = "20/hour"  # noqa: S105
    rate_limit_verification_per_account: str = "5/hour"
    # Integrations that arrive without a developer (docs/oauth.md): RFC 7591 registration
    # at /oauth/register ("open" or "off"), client ID metadata documents, and whether
    # their fetches may reach loopback and private addresses.
    dynamic_registration: Literal["open", "off"] = "open"
    client_id_metadata_documents: Literal["on", "off"] = "on"
    outbound_allow_private: bool = False
    # Registrations per IP address (RFC 7591 §3; docs/operations.md).
    rate_limit_registration_per_ip: str = "20/hour"
    # Input limits (docs/operations.md): a request's body, and its request line and
    # headers together, in bytes.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_header_bytes: int = Field(32 * 1024, ge=4096)

    @field_validator(
        "rate_limit_login_per_account",
        "rate_limit_login_per_ip",
        "rate_limit_signup_per_ip",
        "rate_limit_client_auth_per_client",
        "rate_limit_client_auth_per_ip",
        "rate_limit_token_per_client",
        "rate_limit_token_per_ip",
        "rate_limit_bearer_failures_per_ip",
        "rate_limit_credential_reports_per_ip",
        "rate_limit_password_reset_per_account",
        "rate_limit_password_reset_per_ip",
        "rate_limit_verification_per_account",
        "rate_limit_device_code_per_account",
        "rate_limit_registration_per_ip",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in ("", "off", "0"):
            return "off"
        limits.parse(value)  # ValueError names the bad value
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("PACED_REDIS_URL must start with redis:// or rediss://")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str) -> str:
        value = value.strip()
        if value and (
            urlsplit(value).scheme not in ("smtp", "smtps") or not urlsplit(value).hostname
        ):
            raise ValueError("PACED_SMTP_URL must be smtp://user:pass@host:587 or smtps://…:465")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for entry in _split(value):
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split(self.trusted_proxies)

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: str) -> str:
        problem = value and weakness(value, "PACED_SECRET_KEY")
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("base_url")
    @classmethod
    def _canonical_origin(cls, value: str) -> str:
        # The issuer is compared as a string (RFC 8414 §3.3, RFC 9207), and `https` decides
        # the cookies' Secure flag: `HTTPS://Auth.Example/` is written one way only.
        parts = urlsplit(value.strip())
        if parts.scheme and parts.netloc:
            value = urlunsplit(
                parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower())
            )
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
            return secrets.token_urlsafe(MIN_BYTES)
        try:
            return from_file(path.with_name(path.name + ".secret-key"))
        except ValueError as error:
            raise ConfigError(str(error)) from None

    def policy(self) -> Policy:
        def optional(seconds: int) -> timedelta | None:
            return timedelta(seconds=seconds) if seconds else None

        return Policy(
            issuer=self.base_url,
            access_token_ttl=timedelta(seconds=self.access_token_ttl),
            auth_code_ttl=timedelta(seconds=self.auth_code_ttl),
            refresh_token_ttl=optional(self.refresh_token_ttl),
            refresh_token_max_age=optional(self.refresh_token_max_age),
            refresh_reuse_grace=timedelta(seconds=self.refresh_reuse_grace),
            device_code_ttl=timedelta(seconds=self.device_code_ttl),
            session_idle=timedelta(days=self.session_idle_days),
            personal_token_unused_revoke_after=optional(self.pat_unused_revoke_after),
            password_hashing=Hashing(
                time_cost=self.password_time_cost,
                memory_kib=self.password_memory_kib,
                parallelism=self.password_parallelism,
            ),
            dynamic_registration=self.dynamic_registration == "open",
            client_id_metadata_documents=self.client_id_metadata_documents == "on",
        )
