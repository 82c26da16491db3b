"""The rows of the fake's tables: one dataclass per table of paced/storage/models.py,
with its columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paced.core.records import Registration


@dataclass(slots=True)
class UserRow:
    id: str
    email: str
    email_key: str
    name: str
    time_zone: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    email_verified_at: datetime | None = None
    disabled_at: datetime | None = None
    sign_in_unlocked_at: datetime | None = None


@dataclass(slots=True)
class SessionRow:
    digest: str
    user_id: str
    ip: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    reveal_nonce: str | None = None
    id: str | None = None


@dataclass(slots=True)
class PersonalTokenRow:
    id: str
    user_id: str
    name: str
    digest: str
    scopes: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    hint: str | None
    expiry_notified_at: datetime | None = None


@dataclass(slots=True)
class AppRow:
    id: str
    owner_id: str | None
    name: str
    description: str
    homepage_url: str
    client_id: str
    redirect_uris: tuple[str, ...]  # a JSON array in the database
    public: bool
    created_at: datetime
    updated_at: datetime
    device_flow: bool
    registration: Registration


@dataclass(slots=True)
class ClientSecretRow:
    id: str
    app_id: str
    digest: str
    created_at: datetime
    last_used_at: datetime | None
    hint: str | None


@dataclass(slots=True)
class GrantRow:
    id: str
    app_id: str
    user_id: str
    scopes: str
    redirect_uri: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    resource: str | None


@dataclass(slots=True)
class AuthorizationCodeRow:
    digest: str
    grant_id: str
    redirect_uri: str
    code_challenge: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(slots=True)
class DeviceCodeRow:
    digest: str
    user_code_digest: str
    app_id: str
    scopes: str
    created_at: datetime
    expires_at: datetime
    poll_interval: int
    next_poll_at: datetime
    grant_id: str | None
    denied_at: datetime | None
    used_at: datetime | None
    resource: str | None


@dataclass(slots=True)
class AccessTokenRow:
    id: str
    grant_id: str
    digest: str
    scopes: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class RefreshTokenRow:
    id: str
    grant_id: str
    digest: str
    scopes: str
    created_at: datetime
    expires_at: datetime | None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(slots=True)
class SecurityEventRow:
    id: int
    user_id: str | None
    event: str
    actor: str
    ip: str
    user_agent: str
    detail: str  # a JSON object, as stored
    created_at: datetime


@dataclass(slots=True)
class LinkRow:
    digest: str
    user_id: str
    purpose: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(slots=True)
class MailRow:
    id: int
    message_id: str
    user_id: str | None
    recipient: str
    kind: str
    ip: str
    user_agent: str
    detail: str  # a JSON object, as stored
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: int
    last_error: str
    sent_at: datetime | None = None


@dataclass(slots=True)
class TotpRow:
    user_id: str
    secret: str | None
    pending_secret: str | None
    last_step: int | None
    enabled_at: datetime | None


@dataclass(slots=True)
class RecoveryCodeRow:
    user_id: str
    digest: str
    created_at: datetime
    used_at: datetime | None = None


@dataclass(slots=True)
class PasskeyRow:
    id: str
    user_id: str
    credential_id: str
    public_key: str
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(slots=True)
class ChallengeRow:
    challenge: str
    binding: str
    purpose: str
    user_id: str | None
    expires_at: datetime
