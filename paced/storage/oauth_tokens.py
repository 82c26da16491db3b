"""AuthorizationCodes, TokenIssuance, RefreshTokens and AccessTokens over SQLAlchemy Core.

Consuming a code and rotating a refresh token are conditional updates whose row count
names the single winner, on SQLite (writers queue behind BEGIN IMMEDIATE) and on
PostgreSQL (the loser's UPDATE waits for the winner's row lock, then matches nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paced.core.records import AccessToken, AuthorizationCode, RefreshToken
from paced.storage.grants import GRANT_COLUMNS, grant_from
from paced.storage.models import access_tokens, authorization_codes, grants, refresh_tokens


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


class OAuthTokenRows:
    connection: AsyncConnection

    # --- AuthorizationCodes -----------------------------------------------------------

    async def code_by_digest(self, digest: str) -> AuthorizationCode | None:
        codes = authorization_codes
        row = (
            await self.connection.execute(
                select(
                    codes.c.digest,
                    codes.c.redirect_uri,
                    codes.c.code_challenge,
                    codes.c.created_at,
                    codes.c.expires_at,
                    codes.c.used_at,
                    *GRANT_COLUMNS,
                )
                .join(grants, grants.c.id == codes.c.grant_id)
                .where(codes.c.digest == digest)
            )
        ).first()
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
        result = await self.connection.execute(
            update(authorization_codes)
            .where(authorization_codes.c.digest == digest, authorization_codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    # --- TokenIssuance ----------------------------------------------------------------

    async def add_access_token(
        self,
        *,
        token_id: str,
        grant_id: str,
        digest: str,
        scopes: tuple[str, ...],
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        await self.connection.execute(
            insert(access_tokens).values(
                id=token_id,
                grant_id=grant_id,
                digest=digest,
                scopes=" ".join(scopes),
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def add_refresh_token(
        self,
        *,
        token_id: str,
        grant_id: str,
        digest: str,
        scopes: tuple[str, ...],
        created_at: datetime,
        expires_at: datetime | None,
    ) -> None:
        await self.connection.execute(
            insert(refresh_tokens).values(
                id=token_id,
                grant_id=grant_id,
                digest=digest,
                scopes=" ".join(scopes),
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def touch_grant(self, grant_id: str, now: datetime) -> None:
        await self.connection.execute(
            update(grants).where(grants.c.id == grant_id).values(last_used_at=now)
        )

    # --- RefreshTokens ----------------------------------------------------------------

    async def _token_with_grant(self, table: Table, digest: str, *extra: Any) -> Any:
        """The access or refresh token row with this digest, joined to its grant."""
        statement = (
            select(
                table.c.id,
                table.c.scopes,
                table.c.created_at,
                table.c.expires_at,
                table.c.revoked_at,
                *extra,
                *GRANT_COLUMNS,
            )
            .join(grants, grants.c.id == table.c.grant_id)
            .where(table.c.digest == digest)
        )
        return (await self.connection.execute(statement)).first()

    async def refresh_token_by_digest(self, digest: str) -> RefreshToken | None:
        row = await self._token_with_grant(refresh_tokens, digest, refresh_tokens.c.rotated_at)
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
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.rotated_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(rotated_at=now)
        )
        return result.rowcount == 1

    # --- AccessTokens -----------------------------------------------------------------

    async def access_token_by_digest(self, digest: str) -> AccessToken | None:
        row = await self._token_with_grant(access_tokens, digest)
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
        await self.connection.execute(
            update(access_tokens)
            .where(access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
