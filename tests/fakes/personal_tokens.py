"""PersonalTokenStore, PersonalTokensByDigest, UnusedPersonalTokens and ExpiringTokens,
as paced/storage/personal_tokens.py."""

from __future__ import annotations

from datetime import datetime

from paced.core import scopes as scope_text
from paced.core.records import PersonalToken
from tests.fakes.rows import PersonalTokenRow
from tests.fakes.tables import Rows, oldest_first


def personal_token_from(row: PersonalTokenRow) -> PersonalToken:
    return PersonalToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        hint=row.hint,
    )


def _unused_since(row: PersonalTokenRow, since: datetime) -> bool:
    return (row.last_used_at or row.created_at) < since


class PersonalTokenRows(Rows):
    async def add_personal_token(self, token: PersonalToken, digest: str) -> None:
        row = PersonalTokenRow(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            digest=digest,
            scopes=scope_text.render(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            hint=token.hint,
        )
        self._insert(self.db.personal_tokens, row)

    async def personal_token_by_id(self, token_id: str) -> PersonalToken | None:
        row = self.db.personal_tokens.first(id=token_id)
        return personal_token_from(row) if row else None

    async def personal_token_by_digest(self, digest: str) -> PersonalToken | None:
        row = self.db.personal_tokens.first(digest=digest)
        return personal_token_from(row) if row else None

    async def personal_tokens_of(self, user_id: str) -> list[PersonalToken]:
        owned = sorted(self.db.personal_tokens.where(user_id=user_id), key=lambda row: row.id)
        owned.sort(key=lambda row: row.created_at, reverse=True)
        return [personal_token_from(row) for row in owned]

    async def revoke_personal_token(self, token_id: str, now: datetime) -> bool:
        row = self.db.personal_tokens.first(id=token_id, revoked_at=None)
        if row is None:
            return False
        row.revoked_at = now
        return True

    async def unused_personal_tokens(
        self, unused_since: datetime, now: datetime, *, limit: int
    ) -> list[PersonalToken]:
        found = [
            row
            for row in self.db.personal_tokens.where(revoked_at=None)
            if (row.expires_at is None or row.expires_at > now) and _unused_since(row, unused_since)
        ]
        return [personal_token_from(row) for row in sorted(found, key=oldest_first)[:limit]]

    async def revoke_unused_personal_token(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> bool:
        row = self.db.personal_tokens.first(id=token_id, revoked_at=None)
        if row is None or not _unused_since(row, unused_since):
            return False
        row.revoked_at = now
        return True

    async def tokens_expiring(
        self, now: datetime, before: datetime, *, limit: int
    ) -> list[PersonalToken]:
        found = [
            (row.expires_at, row)
            for row in self.db.personal_tokens.where(revoked_at=None, expiry_notified_at=None)
            if row.expires_at is not None and now < row.expires_at <= before
        ]
        found.sort(key=lambda pair: pair[0])
        return [personal_token_from(row) for _, row in found[:limit]]

    async def mark_expiry_notified(self, token_id: str, now: datetime) -> bool:
        row = self.db.personal_tokens.first(id=token_id, expiry_notified_at=None)
        if row is None:
            return False
        row.expiry_notified_at = now
        return True
