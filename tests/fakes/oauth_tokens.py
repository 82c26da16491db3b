"""AuthorizationCodes, TokenIssuance, RefreshTokens and AccessTokens, as
paced/storage/oauth_tokens.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import AccessToken, AuthorizationCode, NewToken, RefreshToken
from tests.fakes.grants import grant_from
from tests.fakes.rows import AccessTokenRow, RefreshTokenRow
from tests.fakes.tables import ConstraintViolation, Rows


class OAuthTokenRows(Rows):
    async def code_by_digest(self, digest: str) -> AuthorizationCode | None:
        row = self.db.authorization_codes.first(digest=digest)
        grant = self.db.grants.first(id=row.grant_id) if row else None
        if row is None or grant is None:
            return None
        return AuthorizationCode(
            digest=row.digest,
            grant=grant_from(grant),
            redirect_uri=row.redirect_uri,
            code_challenge=row.code_challenge,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    async def consume_code(self, digest: str, now: datetime) -> bool:
        row = self.db.authorization_codes.first(digest=digest, used_at=None)
        if row is None:
            return False
        row.used_at = now
        return True

    async def add_tokens(
        self, grant_id: str, created_at: datetime, access: NewToken, refresh: NewToken
    ) -> None:
        if access.expires_at is None:  # NOT NULL in the database
            raise ConstraintViolation("access_tokens.expires_at: NULL")
        self._insert(
            self.db.access_tokens,
            AccessTokenRow(
                access.id,
                grant_id,
                access.digest,
                " ".join(access.scopes),
                created_at,
                access.expires_at,
            ),
        )
        self._insert(
            self.db.refresh_tokens,
            RefreshTokenRow(
                refresh.id,
                grant_id,
                refresh.digest,
                " ".join(refresh.scopes),
                created_at,
                refresh.expires_at,
            ),
        )

    async def touch_grant(self, grant_id: str, now: datetime) -> None:
        for row in self.db.grants.where(id=grant_id):
            row.last_used_at = now

    async def refresh_token_by_digest(self, digest: str) -> RefreshToken | None:
        row = self.db.refresh_tokens.first(digest=digest)
        grant = self.db.grants.first(id=row.grant_id) if row else None
        if row is None or grant is None:
            return None
        return RefreshToken(
            id=row.id,
            grant=grant_from(grant),
            scopes=tuple(row.scopes.split()),
            created_at=row.created_at,
            expires_at=row.expires_at,
            rotated_at=row.rotated_at,
            revoked_at=row.revoked_at,
        )

    async def rotate_refresh_token(self, token_id: str, now: datetime) -> bool:
        row = self.db.refresh_tokens.first(id=token_id, rotated_at=None, revoked_at=None)
        if row is None:
            return False
        row.rotated_at = now
        return True

    async def access_token_by_digest(self, digest: str) -> AccessToken | None:
        row = self.db.access_tokens.first(digest=digest)
        grant = self.db.grants.first(id=row.grant_id) if row else None
        if row is None or grant is None:
            return None
        return AccessToken(
            id=row.id,
            grant=grant_from(grant),
            scopes=tuple(row.scopes.split()),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    async def revoke_access_token(self, token_id: str, now: datetime) -> None:
        for row in self.db.access_tokens.where(id=token_id, revoked_at=None):
            row.revoked_at = now
