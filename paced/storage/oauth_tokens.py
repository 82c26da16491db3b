"""AuthorizationCodes, TokenIssuance, RefreshTokens and AccessTokens over SQLAlchemy Core.

Consuming a code and rotating a refresh token are conditional updates whose row count
names the single winner, on SQLite (writers queue behind BEGIN IMMEDIATE) and on
PostgreSQL (the loser's UPDATE waits for the winner's row lock, then matches nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, Table, bindparam, insert, select, update

from paced.core.records import AccessToken, AuthorizationCode, NewToken, RefreshToken
from paced.storage.connection import StorageConnection
from paced.storage.grants import GRANT_COLUMNS, grant_from
from paced.storage.models import access_tokens, authorization_codes, grants, refresh_tokens


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The statements of the token endpoint are built once: building one costs several
# times running it (docs/benchmarks.md); executed again, its plan is found at once
# (paced/storage/compiled.py).
_codes = authorization_codes


def _with_grant(table: Table, *columns: Any) -> Select[Any]:
    """`columns` of the row of `table` with a digest, joined to its grant."""
    return (
        select(*columns, *GRANT_COLUMNS)
        .join(grants, grants.c.id == table.c.grant_id)
        .where(table.c.digest == bindparam("digest"))
    )


def _token_with_grant(table: Table, *extra: Any) -> Select[Any]:
    """The access or refresh token row with a digest, joined to its grant."""
    columns = (table.c.id, table.c.scopes, table.c.created_at, table.c.expires_at)
    return _with_grant(table, *columns, table.c.revoked_at, *extra)


CODE_BY_DIGEST = _with_grant(
    _codes,
    _codes.c.digest,
    _codes.c.redirect_uri,
    _codes.c.code_challenge,
    _codes.c.created_at,
    _codes.c.expires_at,
    _codes.c.used_at,
)
CONSUME_CODE = (
    update(_codes)
    .where(_codes.c.digest == bindparam("code_digest"), _codes.c.used_at.is_(None))
    .values(used_at=bindparam("now"))
)


def _add_token(table: Table, kind: str) -> Insert:
    return insert(table).values(
        id=bindparam(f"{kind}_id"),
        grant_id=bindparam("grant_id"),
        digest=bindparam(f"{kind}_digest"),
        scopes=bindparam(f"{kind}_scopes"),
        created_at=bindparam("created_at"),
        expires_at=bindparam(f"{kind}_expires_at"),
    )


def _token_values(kind: str, token: NewToken) -> dict[str, object]:
    return {
        f"{kind}_id": token.id,
        f"{kind}_digest": token.digest,
        f"{kind}_scopes": " ".join(token.scopes),
        f"{kind}_expires_at": token.expires_at,
    }


ADD_ACCESS_TOKEN = _add_token(access_tokens, "access")
ADD_REFRESH_TOKEN = _add_token(refresh_tokens, "refresh")
# Both in one statement where the database allows it (SQLite has no INSERT in WITH).
ADD_TOKENS = _add_token(refresh_tokens, "refresh").add_cte(
    _add_token(access_tokens, "access").cte("access_token")
)
TOUCH_GRANT = (
    update(grants).where(grants.c.id == bindparam("grant_id")).values(last_used_at=bindparam("now"))
)
ROTATE_REFRESH_TOKEN = (
    update(refresh_tokens)
    .where(
        refresh_tokens.c.id == bindparam("token_id"),
        refresh_tokens.c.rotated_at.is_(None),
        refresh_tokens.c.revoked_at.is_(None),
    )
    .values(rotated_at=bindparam("now"))
)
REVOKE_ACCESS_TOKEN = (
    update(access_tokens)
    .where(access_tokens.c.id == bindparam("token_id"), access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)


REFRESH_TOKEN_BY_DIGEST = _token_with_grant(refresh_tokens, refresh_tokens.c.rotated_at)
ACCESS_TOKEN_BY_DIGEST = _token_with_grant(access_tokens)


class OAuthTokenRows:
    connection: StorageConnection

    # --- AuthorizationCodes -----------------------------------------------------------

    async def code_by_digest(self, digest: str) -> AuthorizationCode | None:
        row = (await self.connection.execute(CODE_BY_DIGEST, {"digest": digest})).first()
        if row is None:
            return None
        return AuthorizationCode(
            digest=row.digest,
            grant=grant_from(row),
            redirect_uri=row.redirect_uri,
            code_challenge=row.code_challenge,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    async def consume_code(self, digest: str, now: datetime) -> bool:
        result = await self.connection.execute(CONSUME_CODE, {"code_digest": digest, "now": now})
        return result.rowcount == 1

    # --- TokenIssuance ----------------------------------------------------------------

    async def add_tokens(
        self, grant_id: str, created_at: datetime, access: NewToken, refresh: NewToken
    ) -> None:
        shared = {"grant_id": grant_id, "created_at": created_at}
        access_values = {**shared, **_token_values("access", access)}
        refresh_values = {**shared, **_token_values("refresh", refresh)}
        if self.connection.dialect.name == "postgresql":  # one round trip
            await self.connection.execute(ADD_TOKENS, {**access_values, **refresh_values})
            return
        await self.connection.execute(ADD_ACCESS_TOKEN, access_values)
        await self.connection.execute(ADD_REFRESH_TOKEN, refresh_values)

    async def touch_grant(self, grant_id: str, now: datetime) -> None:
        await self.connection.execute(TOUCH_GRANT, {"grant_id": grant_id, "now": now})

    # --- RefreshTokens ----------------------------------------------------------------

    async def refresh_token_by_digest(self, digest: str) -> RefreshToken | None:
        row = (await self.connection.execute(REFRESH_TOKEN_BY_DIGEST, {"digest": digest})).first()
        if row is None:
            return None
        return RefreshToken(
            id=row.id,
            grant=grant_from(row),
            scopes=_scopes(row.scopes),
            created_at=row.created_at,
            expires_at=row.expires_at,
            rotated_at=row.rotated_at,
            revoked_at=row.revoked_at,
        )

    async def rotate_refresh_token(self, token_id: str, now: datetime) -> bool:
        result = await self.connection.execute(
            ROTATE_REFRESH_TOKEN, {"token_id": token_id, "now": now}
        )
        return result.rowcount == 1

    # --- AccessTokens -----------------------------------------------------------------

    async def access_token_by_digest(self, digest: str) -> AccessToken | None:
        row = (await self.connection.execute(ACCESS_TOKEN_BY_DIGEST, {"digest": digest})).first()
        if row is None:
            return None
        return AccessToken(
            id=row.id,
            grant=grant_from(row),
            scopes=_scopes(row.scopes),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    async def revoke_access_token(self, token_id: str, now: datetime) -> None:
        await self.connection.execute(REVOKE_ACCESS_TOKEN, {"token_id": token_id, "now": now})
