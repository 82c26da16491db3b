"""Issuing a token pair under a grant, and the success body of the token endpoint.

Both grants end here: a new access token (`pt_oauth_…`, `Policy.access_token_ttl`) and a
new refresh token (`pt_refresh_…`), stored only as digests. The caller has locked the
grant first (`TokenIssuance.touch_grant`), recording its last use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paced.core import scopes as scope_rules
from paced.core import token_format
from paced.core.ids import digest, ordered_id
from paced.core.policy import Policy
from paced.core.records import Grant, NewToken, RefreshToken
from paced.core.store import TokenIssuance

TOKEN_TYPE = "bearer"  # noqa: S105 (the token type, not a secret)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a successful token request answers (RFC 6749 §5.1, docs/reference.md §6)."""

    access_token: str
    refresh_token: str
    scopes: tuple[str, ...]
    expires_in: int
    created_at: datetime

    def body(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": TOKEN_TYPE,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            # Always present, although RFC 6749 §5.1 lets it go when unchanged
            # (docs/reference.md §6).
            "scope": scope_rules.render(self.scopes),
            "created_at": int(self.created_at.timestamp()),
        }


def refresh_expiry(created_at: datetime, grant: Grant, policy: Policy) -> datetime | None:
    """When a refresh token created at `created_at` stops working under `policy`: its
    unused lifetime counted from its creation (the last rotation), capped by the grant's
    maximum age counted from the authorization (docs/reference.md §1). None: never."""
    limits = []
    if policy.refresh_token_ttl is not None:
        limits.append(created_at + policy.refresh_token_ttl)
    if policy.refresh_token_max_age is not None:
        limits.append(grant.created_at + policy.refresh_token_max_age)
    return min(limits, default=None)


def refresh_token_expiry(token: RefreshToken, policy: Policy) -> datetime | None:
    """When `token` stops working: the expiry stored at its issue, or the current policy's
    if an operator has tightened it since."""
    limits = [token.expires_at, refresh_expiry(token.created_at, token.grant, policy)]
    return min((limit for limit in limits if limit is not None), default=None)


async def issue(
    store: TokenIssuance,
    grant: Grant,
    now: datetime,
    policy: Policy,
    *,
    access_scopes: tuple[str, ...],
    refresh_scopes: tuple[str, ...],
) -> IssuedTokens:
    """A new access token with `access_scopes` and a refresh token with `refresh_scopes`
    (the grant's: a narrower refresh scope applies to the access token only, RFC 6749 §6)."""
    access_token = token_format.generate(token_format.ACCESS)
    refresh_token = token_format.generate(token_format.REFRESH)
    await store.add_tokens(
        grant.id,
        now,
        access=NewToken(
            id=ordered_id("at", now),
            digest=digest(access_token),
            scopes=access_scopes,
            expires_at=now + policy.access_token_ttl,
        ),
        refresh=NewToken(
            id=ordered_id("rt", now),
            digest=digest(refresh_token),
            scopes=refresh_scopes,
            expires_at=refresh_expiry(now, grant, policy),
        ),
    )
    return IssuedTokens(
        access_token=access_token,
        refresh_token=refresh_token,
        scopes=access_scopes,
        expires_in=int(policy.access_token_ttl.total_seconds()),
        created_at=now,
    )
