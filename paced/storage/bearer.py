"""The Bearer check's statements and rows, for both databases: the hot path of every API
request.

One indexed SELECT by digest, joined to everything the answer needs, run on the
driver's own connection like every statement (paced/storage/compiled.py). SQLite looks
one digest up (`digest = :digest`); PostgreSQL the digests that the requests of one turn
of the event loop ask for (`digest = ANY(:digests)`, paced/storage/postgres.py).

The rare last-used write runs in a unit of work of its own, as a conditional UPDATE, so
that concurrent requests on any node write it once.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Table,
    any_,
    bindparam,
    or_,
    select,
    update,
)

from paced.core.records import BearerToken, User
from paced.storage.models import access_tokens, apps, grants, personal_tokens, users

if TYPE_CHECKING:
    from paced.storage.store import Store

Kind = Literal["personal", "oauth"]

_USER = (
    users.c.id.label("user_id"),
    users.c.email,
    users.c.name,
    users.c.time_zone,
    users.c.created_at,
    users.c.updated_at,
)


def _personal(digest: ColumnElement[bool]) -> Select[Any]:
    t = personal_tokens
    return (
        select(
            *_USER,
            t.c.id,
            t.c.digest,
            t.c.scopes,
            t.c.expires_at,
            or_(t.c.revoked_at.is_not(None), users.c.disabled_at.is_not(None)).label("revoked"),
            t.c.last_used_at,
        )
        .select_from(t.join(users, users.c.id == t.c.user_id))
        .where(digest)
    )


def _oauth(digest: ColumnElement[bool]) -> Select[Any]:
    t = access_tokens
    return (
        select(
            *_USER,
            t.c.id,
            t.c.digest,
            t.c.scopes,
            t.c.expires_at,
            or_(
                t.c.revoked_at.is_not(None),
                grants.c.revoked_at.is_not(None),
                users.c.disabled_at.is_not(None),
            ).label("revoked"),
            grants.c.last_used_at,
            apps.c.client_id,
            grants.c.id.label("grant_id"),
        )
        .select_from(
            t.join(grants, grants.c.id == t.c.grant_id)
            .join(apps, apps.c.id == grants.c.app_id)
            .join(users, users.c.id == grants.c.user_id)
        )
        .where(digest)
    )


# One digest, as `{"digest": …}`.
PERSONAL = _personal(personal_tokens.c.digest == bindparam("digest"))
OAUTH = _oauth(access_tokens.c.digest == bindparam("digest"))
# Several digests at once, as `{"digests": [...]}` (PostgreSQL).
_DIGESTS = bindparam("digests", type_=ARRAY(String))
PERSONAL_ANY = _personal(personal_tokens.c.digest == any_(_DIGESTS))
OAUTH_ANY = _oauth(access_tokens.c.digest == any_(_DIGESTS))


def token(row: Any, kind: Kind) -> BearerToken:
    user = User(
        id=row.user_id,
        email=row.email,
        name=row.name,
        time_zone=row.time_zone,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    return BearerToken(
        kind=kind,
        id=row.id,
        digest=row.digest,
        user=user,
        scopes=tuple(row.scopes.split()),
        expires_at=row.expires_at,
        revoked=bool(row.revoked),
        last_used_at=row.last_used_at,
        client_id=row.client_id if kind == "oauth" else None,
        grant_id=row.grant_id if kind == "oauth" else None,
    )


def touch(table: Table, row_id: str, now: datetime, unused_since: datetime) -> Any:
    stale: ColumnElement[bool] = or_(
        table.c.last_used_at.is_(None), table.c.last_used_at <= unused_since
    )
    return update(table).where(table.c.id == row_id, stale).values(last_used_at=now)


class LastUse:
    """The Bearer check's last-used writes, as both Databases make them: each in a unit of
    work of its own."""

    def unit_of_work(self) -> AbstractAsyncContextManager[Store]:
        raise NotImplementedError

    async def record_personal_token_use(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        async with self.unit_of_work() as store:
            await store.connection.execute(touch(personal_tokens, token_id, now, unused_since))

    async def record_grant_use(
        self, grant_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        async with self.unit_of_work() as store:
            await store.connection.execute(touch(grants, grant_id, now, unused_since))
