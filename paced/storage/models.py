"""The schema. Alembic migrations in `migrations/` must match it (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every engine.

    SQLite keeps no zone, so values go in as naive UTC and come back marked UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Column[str]:
    return Column("id", String(40), primary_key=True)


def _digest() -> Column[str]:
    return Column("digest", String(64), nullable=False, unique=True)


def _at(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


def _owner(name: str, table: str, index: bool = True) -> Column[str]:
    return Column(
        name, String(40), ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False, index=index
    )


users = Table(
    "users",
    metadata,
    _id(),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    _at("created_at"),
    _at("updated_at"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    _owner("user_id", "users"),
    Column("ip", String(45), nullable=False),
    Column("user_agent", String(300), nullable=False),
    _at("created_at"),
    _at("last_seen_at"),
    # The one-time nonce of the secret this session may still be shown (paced.web.reveal).
    Column("reveal_nonce", String(32), nullable=True),
)

personal_tokens = Table(
    "personal_tokens",
    metadata,
    _id(),
    _owner("user_id", "users"),
    Column("name", String(100), nullable=False),
    _digest(),
    Column("scopes", String(100), nullable=False),
    _at("created_at"),
    _at("expires_at", nullable=True),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
)

apps = Table(
    "apps",
    metadata,
    _id(),
    # NULL for a client nobody registered by hand (RFC 7591, or a metadata document).
    Column(
        "owner_id",
        String(40),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("name", String(100), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("homepage_url", String(2000), nullable=False),
    # Random, or the URL of the client's metadata document.
    Column("client_id", String(1024), nullable=False, unique=True),
    Column("redirect_uris", Text, nullable=False),  # a JSON array of strings
    Column("public", Boolean, nullable=False),
    _at("created_at"),
    _at("updated_at"),
    # How the app came to be: "developer" (by its owner), "dynamic" (RFC 7591),
    # "document" (a client ID metadata document).
    Column("registration", String(16), nullable=False, server_default="developer"),
)

client_secrets = Table(
    "client_secrets",
    metadata,
    _id(),
    _owner("app_id", "apps"),
    _digest(),
    _at("created_at"),
    _at("last_used_at", nullable=True),
)

# One row per approval on the consent screen: the family that a code, and every access
# and refresh token descending from it, belongs to (RFC 9700 §4.14).
grants = Table(
    "grants",
    metadata,
    _id(),
    _owner("app_id", "apps"),
    _owner("user_id", "users", index=False),  # led by ix_grants_user_id_app_id
    Column("scopes", String(100), nullable=False),
    # Where the approval was given for, exactly (paced.core.consent); NULL on grants made
    # before it was recorded, which therefore never spare the consent screen.
    Column("redirect_uri", Text, nullable=True),
    _at("created_at"),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
    # The RFC 8707 resource its tokens are bound to; NULL when the request named none.
    Column("resource", Text, nullable=True),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    _owner("grant_id", "grants"),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(128), nullable=True),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    _id(),
    _owner("grant_id", "grants"),
    _digest(),
    Column("scopes", String(100), nullable=False),
    _at("created_at"),
    _at("expires_at"),
    _at("revoked_at", nullable=True),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    _id(),
    _owner("grant_id", "grants"),
    _digest(),
    Column("scopes", String(100), nullable=False),
    _at("created_at"),
    _at("expires_at", nullable=True),
    _at("rotated_at", nullable=True),
    _at("revoked_at", nullable=True),
)

Index("ix_grants_user_id_app_id", grants.c.user_id, grants.c.app_id)

# The security log (paced.core.security_log): appended to, never updated; an account's
# events go with the account. The id orders events within one second.
security_events = Table(
    "security_events",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),  # SQLite autoincrements INTEGER keys
        primary_key=True,
        autoincrement=True,
    ),
    Column(
        "user_id",
        String(40),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("event", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("user_agent", String(300), nullable=False),
    Column("detail", Text, nullable=False),  # a JSON object; never a secret
    _at("created_at"),
)

Index(
    "ix_security_events_user_id_created_at",
    security_events.c.user_id,
    security_events.c.created_at,
)
Index("ix_security_events_event_created_at", security_events.c.event, security_events.c.created_at)
Index("ix_security_events_created_at", security_events.c.created_at)
