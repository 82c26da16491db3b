"""What the core reads from and hands back to storage: frozen dataclasses, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    time_zone: str
    created_at: datetime
    updated_at: datetime
    # None until a link mailed to the address is followed (paced.core.email_verification).
    email_verified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user as seen by the login check: with the password hash, never shown."""

    user: User
    password_hash: str
    # An operator disabled the account (`paced users disable`): it cannot sign in.
    disabled: bool = False
    # The last `paced users unlock`: failures counted before it no longer count.
    unlocked_at: datetime | None = None


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
    # The secret's public hint (`pt_secret_…x9Qa`); None for a token made before hints
    # were kept.
    hint: str | None = None


# How an app came to be: registered by its owner in Developer settings or with the CLI;
# by itself at /oauth/register (RFC 7591); or known by its client ID metadata document.
# The last two have no owner, and nobody has reviewed them.
Registration = Literal["developer", "dynamic", "document"]


@dataclass(frozen=True, slots=True)
class App:
    id: str
    owner_id: str | None
    name: str
    description: str
    homepage_url: str
    client_id: str
    redirect_uris: tuple[str, ...]
    public: bool
    created_at: datetime
    updated_at: datetime
    # The owner allows the device authorization grant (RFC 8628): `Enable device flow`.
    device_flow: bool = False
    registration: Registration = "developer"

    @property
    def reviewed(self) -> bool:
        """Whether a person registered it (and answers for it), rather than the client."""
        return self.registration == "developer"


@dataclass(frozen=True, slots=True)
class ClientSecret:
    id: str
    app_id: str
    created_at: datetime
    last_used_at: datetime | None
    hint: str | None = None  # as PersonalToken.hint


TokenKind = Literal["personal", "oauth"]


class SecretDigest(NamedTuple):
    """What client authentication reads of a live client secret."""

    id: str
    digest: str  # SHA-256 hex of the secret
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Client:
    """An app as client authentication reads it, with its live secrets (at most two)."""

    app: App
    secrets: tuple[SecretDigest, ...]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an API request acts for, and with which rights: what a Bearer token proves."""

    user: User
    scopes: tuple[str, ...]
    kind: TokenKind
    token_id: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A token as the Bearer check reads it, in one query."""

    kind: TokenKind
    id: str
    digest: str
    user: User
    scopes: tuple[str, ...]
    expires_at: datetime | None
    # The token's own revocation, or for an OAuth token its grant's as well.
    revoked: bool
    # Of the personal token, or of the OAuth token's grant: what the pages show.
    last_used_at: datetime | None
    client_id: str | None = None
    grant_id: str | None = None


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
    # RFC 8707: the resource its tokens are bound to (their audience), or None.
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """A code as stored: only its digest, with the grant it opens (RFC 6749 §4.1.2)."""

    digest: str
    grant: Grant
    redirect_uri: str
    code_challenge: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An OAuth access token (`pt_oauth_…`) as stored, with its grant."""

    id: str
    grant: Grant
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """An access or refresh token being issued: what is stored of it (its digest only)."""

    id: str
    digest: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A refresh token (`pt_refresh_…`) as stored, with its grant. `rotated_at` is set
    when a refresh replaced it (RFC 9700 §4.14)."""

    id: str
    grant: Grant
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One entry of the security log (`paced.core.security_log`). `user_id` is the account
    it concerns, None for a failed sign-in with an unknown email; `actor` is who acted: a
    user id, a client id, "operator" (the command line) or "anonymous"."""

    id: int
    user_id: str | None
    event: str
    actor: str
    ip: str
    user_agent: str
    detail: Mapping[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """A device authorization (RFC 8628 §3.2) as stored: the digests of its device code and
    user code, with its client's app, and once approved its grant. `next_poll_at` is the
    earliest moment the client may poll again; `interval` is in seconds (§3.5)."""

    digest: str
    user_code_digest: str
    app: App
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    interval: int
    next_poll_at: datetime
    grant: Grant | None
    denied_at: datetime | None
    used_at: datetime | None
    # RFC 8707: the resource the request named, which the grant made on approval is
    # bound to; None when it named none.
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A signed-in session as the sessions list shows it (never its cookie or digest)."""

    id: str
    digest: str
    ip: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class TotpCredential:
    """An account's authenticator app: secrets as stored (encrypted), `secret` None
    until a code confirmed one."""

    user_id: str
    secret: str | None
    pending_secret: str | None
    last_step: int | None
    enabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Passkey:
    id: str
    user_id: str
    credential_id: str  # base64url
    public_key: str  # base64url of the COSE key
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
