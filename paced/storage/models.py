"""The schema. Alembic migrations in `migrations/` must match it (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
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
    false,
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

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "sqlite":
            return _sqlite_time
        return super().result_processor(dialect, coltype)


@lru_cache(maxsize=4096)
def _sqlite_time(value: str | None) -> datetime | None:
    """SQLite's text (naive UTC, as `process_bind_param` wrote it), parsed once: the same
    times come back often (a user's, on every request of theirs), and an LRU hit is a
    dict lookup."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


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
    # When a link mailed to the address was followed (paced.core.email_verification).
    _at("email_verified_at", nullable=True),
    # An operator's `paced users disable`: no sign-in, no session, no token works.
    _at("disabled_at", nullable=True),
    # An operator's `paced users unlock`: sign-in failures before it no longer count.
    _at("sign_in_unlocked_at", nullable=True),
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
    # The public handle the sessions list signs a session out by (never its cookie).
    Column("id", String(40), nullable=True, unique=True),
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
    # The secret's public hint (paced.core.token_format.hint); NULL on rows made before
    # it was kept.
    Column("hint", String(32), nullable=True),
    # When its owner was told it expires soon (once per token).
    _at("expiry_notified_at", nullable=True),
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
    # The owner allows the device authorization grant (RFC 8628).
    Column("device_flow", Boolean, nullable=False, server_default=false()),
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
    Column("hint", String(32), nullable=True),  # as personal_tokens.hint
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

# Device authorizations (RFC 8628): the device code and the user code are secrets, kept as
# SHA-256 digests. A row is pending until a user approves (grant_id) or denies it; the
# token endpoint then redeems it once (used_at).
device_codes = Table(
    "device_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_code_digest", String(64), nullable=False, unique=True),
    _owner("app_id", "apps"),
    Column("scopes", String(100), nullable=False),
    _at("created_at"),
    _at("expires_at"),
    Column("poll_interval", Integer, nullable=False),  # seconds
    _at("next_poll_at"),
    Column(
        "grant_id",
        String(40),
        ForeignKey("grants.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    _at("denied_at", nullable=True),
    _at("used_at", nullable=True),
    # RFC 8707: the resource the request named, for the grant made on approval.
    Column("resource", Text, nullable=True),
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

# One-time links mailed to an account's address (paced.core.one_time_links): only the
# token's digest is kept; `used_at` is set once, by a conditional UPDATE.
one_time_links = Table(
    "one_time_links",
    metadata,
    Column("digest", String(64), primary_key=True),
    _owner("user_id", "users"),
    Column("purpose", String(20), nullable=False),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
)

# The outbox (paced.mail): a message is queued in the transaction of the change it tells
# of, and sent by the server's sender task, which claims due rows with a conditional
# UPDATE (any node may). `detail` is a JSON object; the one-time link it may hold is
# blanked once the message is sent.
mail_queue = Table(
    "mail_queue",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("message_id", String(100), nullable=False, unique=True),
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("recipient", String(254), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("user_agent", String(300), nullable=False),
    Column("detail", Text, nullable=False),
    _at("created_at"),
    _at("next_attempt_at", nullable=True),  # NULL once sent or given up
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(300), nullable=False),
    _at("sent_at", nullable=True),
)

Index("ix_mail_queue_next_attempt_at", mail_queue.c.next_attempt_at)

# Two-factor authentication (paced.core.two_factor, docs/two-factor.md).

# The authenticator app (RFC 6238): its secret must be readable to check codes, so it is
# stored encrypted (paced.core.totp.SecretBox), never as a digest. `pending_secret` is one
# being set up, not yet confirmed by a code; `last_step` is the time step of the last code
# accepted, so that each code is used once.
totp_credentials = Table(
    "totp_credentials",
    metadata,
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret", Text, nullable=True),
    Column("pending_secret", Text, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    _at("enabled_at", nullable=True),
)

# One-time recovery codes, as SHA-256 digests.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), primary_key=True),
    _at("created_at"),
    _at("used_at", nullable=True),
)

# WebAuthn credentials (passkeys): the public key and the signature counter.
passkeys = Table(
    "passkeys",
    metadata,
    _id(),
    _owner("user_id", "users"),
    Column("credential_id", String(1400), nullable=False, unique=True),  # base64url
    Column("public_key", Text, nullable=False),  # base64url of the COSE key
    Column("sign_count", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    _at("created_at"),
    _at("last_used_at", nullable=True),
)

# WebAuthn challenges: single-use, short-lived, bound to the session or browser that asked
# (`binding`, a digest).
webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("challenge", String(100), primary_key=True),  # base64url
    Column("binding", String(64), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    _at("expires_at"),
)
