"""What the rules need from storage: narrow protocols, one per need.

`paced.storage` implements them over SQLAlchemy; each core function asks for the
narrowest one it uses. Single-use things are consumed atomically in storage
(a conditional update whose row count names the winner), never read-then-write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core.records import (
    AccessToken,
    App,
    AuthorizationCode,
    BearerToken,
    Client,
    ClientSecret,
    Credentials,
    DeviceCode,
    Grant,
    NewToken,
    Passkey,
    PersonalToken,
    RefreshToken,
    SecurityEvent,
    Session,
    SessionInfo,
    TotpCredential,
    User,
)


class UserStore(Protocol):
    async def add_user(self, *, user: User, email_key: str, password_hash: str) -> bool:
        """Insert; False when `email_key` is taken."""
        ...

    async def credentials_by_email(self, email_key: str) -> Credentials | None: ...

    async def user_by_id(self, user_id: str) -> User | None: ...

    async def all_users(self) -> list[User]:
        """Every account, oldest first: for the operator's `paced users list`."""
        ...

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None: ...

    async def update_profile(
        self, user_id: str, *, name: str, time_zone: str, now: datetime
    ) -> None: ...


class AccountStatusStore(Protocol):
    """What an operator changes of an account, and what its mailed links confirm."""

    async def set_email_verified(self, user_id: str, now: datetime) -> None:
        """Set email_verified_at unless it is set already."""
        ...

    async def set_disabled(self, user_id: str, disabled_at: datetime | None) -> None: ...

    async def set_sign_in_unlocked(self, user_id: str, now: datetime) -> None: ...


class SessionStore(Protocol):
    async def add_session(
        self, *, id: str, digest: str, user_id: str, now: datetime, ip: str, user_agent: str
    ) -> None: ...

    async def session_by_digest(self, digest: str, *, idle_since: datetime) -> Session | None:
        """The live session (seen after `idle_since`) with its user, else None."""
        ...

    async def touch_session(self, digest: str, now: datetime) -> None: ...

    async def expect_reveal(self, digest: str, nonce: str) -> None:
        """Record `nonce` as the one reveal the session may be shown, replacing any other."""
        ...

    async def spend_reveal(self, digest: str, nonce: str) -> bool:
        """Clear the session's reveal if it is `nonce`: True for the one caller that did."""
        ...

    async def delete_session(self, digest: str) -> None: ...

    async def delete_user_sessions(
        self, user_id: str, *, keep_digest: str | None = None
    ) -> None: ...


class ClientStore(Protocol):
    """What client authentication (RFC 6749 §2.3) needs; shared by the token, revocation
    and introspection endpoints."""

    async def client_by_id(self, client_id: str) -> Client | None:
        """The app with this client_id and its live secrets, read together."""
        ...

    async def touch_client_secret(
        self, secret_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        """Record use unless a use was recorded less than a minute ago (the condition
        holds in the write, so concurrent requests write once)."""
        ...


class GrantRevocation(Protocol):
    """Ending a family at once: shared by refresh-reuse and code-replay detection, app
    revocation on the authorized-applications page, and RFC 7009 revocation."""

    async def revoke_grant(self, grant_id: str, now: datetime) -> None:
        """Mark the grant, and every access and refresh token of it, revoked: set-based
        statements, never a loop over rows."""
        ...

    async def revoke_user_app_grants(self, user_id: str, app_id: str, now: datetime) -> int:
        """Revoke every live grant of `user_id` to `app_id`; returns how many."""
        ...


class AppStore(ClientStore, Protocol):
    """Registering and managing OAuth applications (Developer settings, `paced apps`)."""

    async def add_app(self, app: App) -> None: ...

    async def app_by_id(self, app_id: str) -> App | None:
        """Whoever owns it: for the operator's command line."""
        ...

    async def app_of_owner(self, app_id: str, owner_id: str) -> App | None:
        """The app when `owner_id` owns it, else None: another's app looks absent."""
        ...

    async def apps_of_owner(self, owner_id: str) -> list[App]:
        """Newest first."""
        ...

    async def update_app(self, app: App) -> None:
        """Store name, description, homepage URL, redirect URIs, the device flow's switch
        and updated_at."""
        ...

    async def delete_app(self, app_id: str) -> None:
        """Remove the app with its secrets, grants, codes and tokens."""
        ...

    async def client_secrets(self, app_id: str) -> list[ClientSecret]:
        """Oldest first."""
        ...

    async def add_client_secret(self, secret: ClientSecret, digest: str, *, limit: int) -> bool:
        """Insert unless the app already has `limit` secrets (decided atomically)."""
        ...

    async def delete_client_secret(self, app_id: str, secret_id: str) -> bool: ...


class AuthorizationCodes(Protocol):
    """The token endpoint's side of authorization codes (RFC 6749 §4.1.3)."""

    async def code_by_digest(self, digest: str) -> AuthorizationCode | None:
        """The code with its grant, used or not, else None."""
        ...

    async def consume_code(self, digest: str, now: datetime) -> bool:
        """Mark the code used unless it already is: a conditional update whose row count
        says whether this caller is the one that exchanged it."""
        ...


class TokenIssuance(Protocol):
    """Storing what the token endpoint hands out (only digests) under a grant."""

    async def add_tokens(
        self, grant_id: str, created_at: datetime, access: NewToken, refresh: NewToken
    ) -> None:
        """Store an access token and the refresh token issued with it."""
        ...

    async def touch_grant(self, grant_id: str, now: datetime) -> None:
        """Record the grant's last use (shown on the authorized-applications page). It
        locks the grant's row: every writer of a family takes it before the family's
        tokens."""
        ...


class RefreshTokens(Protocol):
    async def refresh_token_by_digest(self, digest: str) -> RefreshToken | None:
        """The refresh token with its grant, whatever its state, else None."""
        ...

    async def rotate_refresh_token(self, token_id: str, now: datetime) -> bool:
        """Mark the token replaced unless it already is, or is revoked: a conditional
        update whose row count says whether this caller won (RFC 9700 §4.14)."""
        ...


class AccessTokens(Protocol):
    async def access_token_by_digest(self, digest: str) -> AccessToken | None:
        """The OAuth access token with its grant, whatever its state, else None."""
        ...

    async def revoke_access_token(self, token_id: str, now: datetime) -> None: ...


class AppLookup(Protocol):
    """Finding the app an authorization request names (RFC 6749 §4.1.1)."""

    async def app_by_client_id(self, client_id: str) -> App | None: ...


class ConsentStore(Protocol):
    """Approvals on the consent screen, and the codes they issue (RFC 6749 §4.1.2)."""

    async def add_grant(self, grant: Grant, *, redirect_uri: str | None) -> None:
        """`redirect_uri`: where the approval was given for, the answer's destination;
        None for a device authorization, which has none."""
        ...

    async def add_authorization_code(
        self,
        *,
        digest: str,
        grant_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        """`redirect_uri` is the request's parameter as sent, "" when it was omitted."""
        ...

    async def save_document_client(self, app: App) -> None:
        """Insert the client of a metadata document, or bring its stored name, homepage
        and redirect URIs up to date with the document (by `app.client_id`)."""
        ...

    async def granted_scopes(self, user_id: str, app_id: str, redirect_uri: str) -> frozenset[str]:
        """Every scope that some unrevoked grant of the user to the app holds, among the
        grants approved for exactly this `redirect_uri`."""
        ...


class DeviceCodes(Protocol):
    """Device authorizations (RFC 8628): issued to a client, answered by a user at
    /device, redeemed once at the token endpoint."""

    async def add_device_code(self, code: DeviceCode) -> bool:
        """Insert; False (and nothing stored) when a row already holds its user code."""
        ...

    async def device_code_by_digest(self, digest: str) -> DeviceCode | None:
        """The device code with its app and grant, whatever its state, else None."""
        ...

    async def device_code_by_user_code(self, user_code_digest: str) -> DeviceCode | None: ...

    async def poll_device_code(self, digest: str, now: datetime, next_poll_at: datetime) -> bool:
        """Set `next_poll_at` unless the stored one is still ahead of `now`: a conditional
        update whose row count says whether this poll came in time (RFC 8628 §3.5)."""
        ...

    async def slow_down_device_code(self, digest: str, step: int, next_poll_at: datetime) -> None:
        """Add `step` seconds to the interval and set `next_poll_at`."""
        ...

    async def approve_device_code(self, digest: str, grant_id: str, now: datetime) -> bool:
        """Attach the grant unless the code was answered already or has expired: True for
        the one caller that did."""
        ...

    async def deny_device_code(self, digest: str, now: datetime) -> bool:
        """Mark denied unless answered already or expired; True for the caller that did."""
        ...

    async def consume_device_code(self, digest: str, now: datetime) -> bool:
        """Mark the approved code used unless it already is: True for the one caller whose
        poll receives the tokens."""
        ...


class AuthorizedAppStore(GrantRevocation, Protocol):
    """The authorized-applications page: what the user granted, and taking it back."""

    async def live_grants_with_apps(
        self, user_id: str, app_id: str | None = None
    ) -> list[tuple[App, Grant]]:
        """Each unrevoked grant of the user (to `app_id` only, when given) with its app,
        oldest first."""
        ...


class PersonalTokenStore(Protocol):
    """Developer settings and `paced tokens`: a user's personal access tokens."""

    async def add_personal_token(self, token: PersonalToken, digest: str) -> None: ...

    async def personal_token_by_id(self, token_id: str) -> PersonalToken | None: ...

    async def personal_tokens_of(self, user_id: str) -> list[PersonalToken]:
        """Newest first, revoked and expired ones included."""
        ...

    async def revoke_personal_token(self, token_id: str, now: datetime) -> bool:
        """Set revoked_at unless already set; True when this call revoked it."""
        ...


class UnusedPersonalTokens(Protocol):
    """`paced purge`: personal access tokens nobody has used for long."""

    async def unused_personal_tokens(
        self, unused_since: datetime, now: datetime, *, limit: int
    ) -> list[PersonalToken]:
        """Live tokens (not revoked, not expired at `now`) last used, or if never used
        created, before `unused_since`; oldest first."""
        ...

    async def revoke_unused_personal_token(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> bool:
        """Revoke unless revoked already or used since `unused_since` (the condition holds
        in the write, so a token used meanwhile is kept); True when this call revoked it."""
        ...


class BearerStore(Protocol):
    """What the Bearer check of every API request needs: one indexed read by digest, and
    a rare, coarse write of the last use. The read must not take a write lock."""

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        """The personal access token with this digest, with its user, else None."""
        ...

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        """The OAuth access token with this digest, with its grant's state, its app's
        client id and its user (one query), else None."""
        ...

    async def record_personal_token_use(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        """Set last_used_at to `now` unless it is already later than `unused_since`."""
        ...

    async def record_grant_use(
        self, grant_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        """The same for an OAuth grant (shown on the authorized-applications page)."""
        ...


class SecurityLog(Protocol):
    """Appending to the security log, in the transaction of the change it records."""

    async def add_security_event(self, event: SecurityEvent) -> None:
        """Insert; the event's `id` is ignored and given by storage."""
        ...


class SecurityLogReader(Protocol):
    async def security_events_of(
        self, user_id: str, *, limit: int, offset: int = 0
    ) -> list[SecurityEvent]:
        """The account's events, newest first."""
        ...


class SessionList(Protocol):
    """The sessions list of /settings/security."""

    async def sessions_of(self, user_id: str, *, idle_since: datetime) -> list[SessionInfo]:
        """The account's live sessions, most recently active first."""
        ...

    async def delete_session_of(self, user_id: str, session_id: str) -> bool:
        """Delete the session with this public id if it is the user's: True if it was."""
        ...


class TotpStore(Protocol):
    async def totp_of(self, user_id: str) -> TotpCredential | None: ...

    async def set_pending_totp(self, user_id: str, sealed: str) -> None:
        """Keep `sealed` as the secret being set up, replacing any other being set up."""
        ...

    async def confirm_totp(self, user_id: str, pending: str, step: int, now: datetime) -> bool:
        """Make the pending secret the account's, if it is still `pending`, with `step` as
        its last used time step: True for the one caller that did."""
        ...

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record `step` as used unless it or a later one already is (RFC 6238 §5.2: a
        code is accepted once): True for the one caller that did."""
        ...

    async def delete_totp(self, user_id: str) -> None: ...


class RecoveryCodeStore(Protocol):
    async def replace_recovery_codes(
        self, user_id: str, digests: list[str], now: datetime
    ) -> None: ...

    async def use_recovery_code(self, user_id: str, digest: str, now: datetime) -> bool:
        """Mark the unused code used: True for the one caller that did."""
        ...

    async def recovery_codes_left(self, user_id: str) -> int: ...

    async def delete_recovery_codes(self, user_id: str) -> None: ...


class PasskeyStore(Protocol):
    async def add_passkey(self, passkey: Passkey) -> bool:
        """Insert; False when the credential id is registered already."""
        ...

    async def passkeys_of(self, user_id: str) -> list[Passkey]:
        """Oldest first."""
        ...

    async def passkey_by_credential_id(self, credential_id: str) -> Passkey | None: ...

    async def record_passkey_use(
        self, passkey_id: str, old_count: int, new_count: int, now: datetime
    ) -> bool:
        """Store the signature counter if it is still `old_count`: True for the winner."""
        ...

    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool: ...

    async def delete_passkeys(self, user_id: str) -> None: ...

    async def add_challenge(
        self,
        *,
        challenge: str,
        binding: str,
        purpose: str,
        user_id: str | None,
        expires_at: datetime,
    ) -> None:
        """Insert, replacing the binding's other challenges of the same purpose."""
        ...

    async def live_challenge(
        self, binding: str, purpose: str, now: datetime
    ) -> tuple[str, str | None] | None:
        """The binding's live challenge of `purpose` and its user id, without using it."""
        ...

    async def take_challenge(
        self, challenge: str, binding: str, purpose: str, now: datetime
    ) -> bool:
        """Delete the live challenge if it is the binding's: True for the one caller
        that did (a challenge is answered once)."""
        ...
