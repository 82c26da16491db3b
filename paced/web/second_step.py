"""The half-signed-in state between a sign-in's password and its second step
(/login/two-factor): not a session, only a short-lived cookie that says which account
passed the password step, in this browser, until when, and where to go afterwards.

It is sealed (AES-GCM under PACED_SECRET_KEY: unreadable and unforgeable), HttpOnly,
SameSite=Lax, and its deadline (`Policy.second_step_ttl`) is inside the sealed value,
not left to the browser. Its random nonce binds a passkey challenge of the second step
to this browser. The full session starts only when the second step succeeds.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from paced.web.state import AppState

COOKIE = "paced_second_step"
_PURPOSE = "second-step"


@dataclass(frozen=True, slots=True)
class Pending:
    user_id: str
    next_path: str
    nonce: str
    # The key of the sign-in limits the password step counted against.
    limit_key: str

    @property
    def binding(self) -> str:
        """What a passkey challenge of this second step is bound to."""
        return f"second-step:{self.nonce}"


def keep(response: Response, state: AppState, user_id: str, next_path: str, limit_key: str) -> None:
    ttl = int(state.policy.second_step_ttl.total_seconds())
    value = {
        "user": user_id,
        "next": next_path,
        "nonce": secrets.token_urlsafe(16),
        "limit": limit_key,
        "until": int(state.clock().timestamp()) + ttl,
    }
    sealed = state.signer.seal(_PURPOSE, json.dumps(value))
    state.cookies.set(response, COOKIE, sealed, max_age=ttl)


def pending(request: Request, state: AppState) -> Pending | None:
    """The browser's half-signed-in state, if it has a live one."""
    sealed = state.cookies.get(request, COOKIE)
    if not sealed:
        return None
    opened = state.signer.open(_PURPOSE, sealed)
    if opened is None:
        return None
    try:
        value = json.loads(opened)
        found = Pending(
            str(value["user"]), str(value["next"]), str(value["nonce"]), str(value["limit"])
        )
        until = value["until"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(until, int) or until < state.clock().timestamp():
        return None
    return found


def forget(response: Response, state: AppState) -> None:
    state.cookies.delete(response, COOKIE)
