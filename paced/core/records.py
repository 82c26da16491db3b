"""What the core reads from and hands back to storage: frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user as seen by the login check: with the password hash, never shown."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    digest: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class PersonalToken:
    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class App:
    id: str
    owner_id: str
    name: str
    description: str
    homepage_url: str
    client_id: str
    redirect_uris: tuple[str, ...]
    public: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ClientSecret:
    id: str
    app_id: str
    created_at: datetime
    last_used_at: datetime | None


TokenKind = Literal["personal", "oauth"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an API request acts for, and with which rights: what a Bearer token proves."""

    user: User
    scopes: tuple[str, ...]
    kind: TokenKind
    token_id: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """One approval on the consent screen: the family of one code and every token issued
    from it, however often rotated (RFC 9700 §4.14)."""

    id: str
    app_id: str
    user_id: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
