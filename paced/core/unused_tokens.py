"""Personal access tokens nobody uses are revoked (`paced purge`): a token forgotten in an
old script or a laptop's shell history is a credential that only an attacker will use
next. Unused means not used for `Policy.personal_token_unused_revoke_after` (a year by
default), counted from the last use or, for a token never used, from its creation.

Each revocation is recorded in the owner's security log and told to the owner by mail in
the same transaction, naming the token and its hint, so that the owner knows why a script
stopped working.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core import notifications, security_log
from paced.core.mail import MailQueue
from paced.core.records import PersonalToken
from paced.core.security_log import Origin
from paced.core.store import SecurityLog, UnusedPersonalTokens

# What revokes the tokens: the operator's scheduled `paced purge`, not a person.
PURGE = Origin(user_agent="paced purge", operator=True)


class UnusedTokenStore(UnusedPersonalTokens, SecurityLog, MailQueue, Protocol):
    pass


async def revoke_unused(
    store: UnusedTokenStore, now: datetime, unused_for: datetime, *, limit: int
) -> list[PersonalToken]:
    """Revoke up to `limit` tokens unused since `unused_for`; those revoked, so that a
    caller goes on in batches until fewer than `limit` come back."""
    revoked = []
    for token in await store.unused_personal_tokens(unused_for, now, limit=limit):
        if not await store.revoke_unused_personal_token(token.id, now, unused_since=unused_for):
            continue  # used or revoked meanwhile
        await security_log.record(
            store,
            "personal_token_unused_revoked",
            now,
            PURGE,
            user_id=token.user_id,
            detail={
                "token_id": token.id,
                "name": token.name,
                "hint": token.hint,
                "scopes": list(token.scopes),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            },
        )
        await notifications.token_unused_revoked(store, token, now)
        revoked.append(token)
    return revoked
