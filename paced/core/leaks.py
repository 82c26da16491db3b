"""Leaked credentials: anyone who finds one of our secrets in the open reports it, and it
stops working at once (docs/reference.md, "Leaked credentials"; docs/secret-scanning.md).

The report needs no authentication, as GitHub's credential revocation API needs none:
holding the secret is proof enough that it leaked. What each kind of secret becomes:

    pt_secret_   personal access token   revoked
    pt_oauth_    OAuth access token      revoked, alone: as `/oauth/revoke` does with an
                                         access token (RFC 7009 §2.1), the integration
                                         keeps its refresh token and carries on
    pt_refresh_  OAuth refresh token     its whole grant revoked, every access and refresh
                                         token of that approval, as `/oauth/revoke` does
                                         (RFC 7009 §2.1)
    pt_client_   client secret           kept, and the app's owner told: revoking it would
                                         stop the app for every user on a stranger's word;
                                         the owner rotates it (two secrets at a time)

Each revocation is recorded in the owner's security log with the secret's hint, never
the secret, and the owner told by mail (`paced.core.notifications`), in the same
transaction.
A malformed value (prefix, length, alphabet or checksum) is skipped without a database
read. The answer tells the reporter nothing of what was found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from paced.core import notifications, security_log, token_format
from paced.core.errors import InvalidRequest
from paced.core.ids import digest
from paced.core.mail import MailQueue
from paced.core.records import App, PersonalToken
from paced.core.security_log import Origin
from paced.core.store import (
    AccessTokens,
    GrantRevocation,
    PersonalTokenStore,
    RefreshTokens,
    SecurityLog,
)

MAX_CREDENTIALS = 1000
# The longest of our secrets is 47 characters: a longer string is none of them.
_LONGEST = max(len(p) for p in token_format.PREFIXES) + 36

Kind = Literal["personal_token", "oauth_access_token", "oauth_grant", "client_secret"]


class ClientSecretOwners(Protocol):
    async def app_of_client_secret(self, digest: str) -> App | None:
        """The app one of whose live secrets has this digest, else None."""
        ...

    async def delete_client_secret_by_digest(self, digest: str) -> bool:
        """Delete the client secret with this digest; whether there was one."""
        ...


class PersonalTokensByDigest(Protocol):
    async def personal_token_by_digest(self, digest: str) -> PersonalToken | None:
        """The personal access token with this digest, whatever its state, else None."""
        ...


class LeakStore(
    PersonalTokenStore,
    PersonalTokensByDigest,
    AccessTokens,
    RefreshTokens,
    GrantRevocation,
    ClientSecretOwners,
    SecurityLog,
    MailQueue,
    Protocol,
):
    pass


@dataclass(frozen=True, slots=True)
class Revoked:
    """One live credential found in a report, and what became of it."""

    kind: Kind
    user_id: str
    hint: str
    # The token's or grant's id, or the app's for a client secret.
    object_id: str
    # The token's name, or the app's name ("" for an OAuth token: `app_id` names it).
    name: str
    app_id: str | None = None


# What the owner's mail calls each kind of credential.
_IN_WORDS: dict[str, str] = {
    "personal_token": "personal access token",
    "oauth_access_token": "OAuth access token",
    "oauth_grant": "OAuth refresh token",
    "client_secret": "client secret",
}


def parse_report(body: bytes) -> list[str]:
    """`{"credentials": [...]}`: at most MAX_CREDENTIALS strings, duplicates dropped."""
    try:
        report = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest('The body must be JSON: {"credentials": ["…"]}.') from None
    if not isinstance(report, dict) or not isinstance(report.get("credentials"), list):
        raise InvalidRequest('The body must be an object with a "credentials" list.')
    credentials = report["credentials"]
    if len(credentials) > MAX_CREDENTIALS:
        raise InvalidRequest(f"Report at most {MAX_CREDENTIALS} credentials at a time.")
    if not all(isinstance(credential, str) for credential in credentials):
        raise InvalidRequest("Every credential must be a string.")
    return list(dict.fromkeys(c.strip() for c in credentials))


def _prefix(credential: str) -> token_format.Prefix | None:
    """The credential's kind when it is well formed, with no database read."""
    if len(credential) > _LONGEST:
        return None
    for prefix in token_format.PREFIXES:
        if token_format.is_well_formed(credential, prefix):
            return prefix
    return None


async def revoke_leaked(
    store: LeakStore,
    credentials: Sequence[str],
    now: datetime,
    origin: Origin,
) -> list[Revoked]:
    """Revoke every live credential among `credentials`; what was found, for counters and
    notices (never for the reporter)."""
    found: list[Revoked] = []
    for credential in credentials:
        prefix = _prefix(credential)
        if prefix is None:
            continue
        revoked = await _revoke_one(store, prefix, credential, now)
        if revoked is None:
            continue
        await security_log.record(
            store,
            "client_secret_leaked" if revoked.kind == "client_secret" else "credential_leaked",
            now,
            origin,
            user_id=revoked.user_id,
            actor=security_log.ANONYMOUS,
            detail={
                "kind": revoked.kind,
                "hint": revoked.hint,
                "id": revoked.object_id,
                "name": revoked.name,
                "app_id": revoked.app_id,
            },
        )
        await notifications.credential_leaked(
            store,
            revoked.user_id,
            now,
            origin,
            kind=_IN_WORDS[revoked.kind],
            hint=revoked.hint,
            name=revoked.name,
        )
        found.append(revoked)
    return found


async def _revoke_one(
    store: LeakStore, prefix: token_format.Prefix, credential: str, now: datetime
) -> Revoked | None:
    key, hint = digest(credential), token_format.hint(credential)
    if prefix == token_format.PERSONAL:
        token = await store.personal_token_by_digest(key)
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
        if not await store.revoke_personal_token(token.id, now):
            return None  # revoked already
        return Revoked("personal_token", token.user_id, hint, token.id, token.name)
    if prefix == token_format.ACCESS:
        access = await store.access_token_by_digest(key)
        if (
            access is None
            or access.revoked_at is not None
            or access.grant.revoked_at is not None
            or access.expires_at <= now
        ):
            return None
        await store.revoke_access_token(access.id, now)
        grant = access.grant
        return Revoked("oauth_access_token", grant.user_id, hint, access.id, "", grant.app_id)
    if prefix == token_format.REFRESH:
        refresh = await store.refresh_token_by_digest(key)
        if refresh is None or refresh.grant.revoked_at is not None:
            return None
        # A replaced refresh token ends its grant too, as its reuse would (RFC 9700 §4.14).
        await store.revoke_grant(refresh.grant.id, now)
        grant = refresh.grant
        return Revoked("oauth_grant", grant.user_id, hint, grant.id, "", grant.app_id)
    app = await store.app_of_client_secret(key)
    if app is None:
        return None
    if app.owner_id is None:
        # A client that registered itself has no owner to rotate its secret, nor to tell:
        # the secret is deleted, and the client registers again (docs/secret-scanning.md).
        await store.delete_client_secret_by_digest(key)
        return None
    return Revoked("client_secret", app.owner_id, hint, app.id, app.name, app.id)
