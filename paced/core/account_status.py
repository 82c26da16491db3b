"""What an operator does to an account from the command line: disable it, enable it
again, and clear its failed-sign-in limit.

A disabled account cannot sign in, its sessions end at once, and its tokens are refused
from the very next request on every node: the Bearer check reads the flag with the token
(`paced.storage.bearer`). Its OAuth grants are revoked, so that no refresh token mints
new access tokens for it; its personal access tokens are only refused, and work again
once the account is enabled. Unlocking records the moment; sign-in failures counted before it
no longer count (`paced.web.ratelimit.account_key`), on every node.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from paced.core import security_log, sessions
from paced.core.accounts import AccountStore, find_credentials
from paced.core.errors import NotFound
from paced.core.records import User
from paced.core.security_log import Origin
from paced.core.store import AccountStatusStore, AuthorizedAppStore, SessionStore


class StatusStore(AccountStore, SessionStore, AccountStatusStore, AuthorizedAppStore, Protocol):
    pass


async def _user(store: StatusStore, email: str) -> User:
    credentials = await find_credentials(store, email)
    if credentials is None:
        raise NotFound(f"no account has the email {email}")
    return credentials.user


async def disable(store: StatusStore, email: str, now: datetime, *, origin: Origin) -> User:
    user = await _user(store, email)
    await store.set_disabled(user.id, now)
    await sessions.end_all(store, user.id)
    grants = await store.live_grants_with_apps(user.id)
    for _, grant in grants:
        await store.revoke_grant(grant.id, now)
    await security_log.record(
        store,
        "account_disabled",
        now,
        origin,
        user_id=user.id,
        detail={"grants_revoked": len(grants)},
    )
    return user


async def enable(store: StatusStore, email: str, now: datetime, *, origin: Origin) -> User:
    user = await _user(store, email)
    await store.set_disabled(user.id, None)
    await security_log.record(store, "account_enabled", now, origin, user_id=user.id)
    return user


async def unlock(store: StatusStore, email: str, now: datetime, *, origin: Origin) -> User:
    user = await _user(store, email)
    await store.set_sign_in_unlocked(user.id, now)
    await security_log.record(store, "account_unlocked", now, origin, user_id=user.id)
    return user
