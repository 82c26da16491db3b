"""TotpStore, RecoveryCodeStore and PasskeyStore, as paced/storage/two_factor.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import Passkey, TotpCredential
from tests.fakes.rows import ChallengeRow, PasskeyRow, RecoveryCodeRow, TotpRow
from tests.fakes.tables import Rows, oldest_first


def _passkey(row: PasskeyRow) -> Passkey:
    return Passkey(
        id=row.id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=row.public_key,
        sign_count=row.sign_count,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class TwoFactorRows(Rows):
    async def totp_of(self, user_id: str) -> TotpCredential | None:
        row = self.db.totp_credentials.first(user_id=user_id)
        if row is None:
            return None
        return TotpCredential(
            row.user_id, row.secret, row.pending_secret, row.last_step, row.enabled_at
        )

    async def set_pending_totp(self, user_id: str, sealed: str) -> None:
        row = self.db.totp_credentials.first(user_id=user_id)
        if row is not None:
            row.pending_secret = sealed
            return
        self._insert(self.db.totp_credentials, TotpRow(user_id, None, sealed, None, None))

    async def confirm_totp(self, user_id: str, pending: str, step: int, now: datetime) -> bool:
        row = self.db.totp_credentials.first(user_id=user_id, pending_secret=pending)
        if row is None:
            return False
        row.secret, row.pending_secret, row.last_step, row.enabled_at = pending, None, step, now
        return True

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        row = self.db.totp_credentials.first(user_id=user_id)
        if row is None or row.secret is None:
            return False
        if row.last_step is not None and row.last_step >= step:
            return False
        row.last_step = step
        return True

    async def delete_totp(self, user_id: str) -> None:
        self._delete(self.db.totp_credentials, lambda row: row.user_id == user_id)

    async def replace_recovery_codes(self, user_id: str, digests: list[str], now: datetime) -> None:
        await self.delete_recovery_codes(user_id)
        for digest in digests:
            self._insert(self.db.recovery_codes, RecoveryCodeRow(user_id, digest, now))

    async def use_recovery_code(self, user_id: str, digest: str, now: datetime) -> bool:
        row = self.db.recovery_codes.first(user_id=user_id, digest=digest, used_at=None)
        if row is None:
            return False
        row.used_at = now
        return True

    async def recovery_codes_left(self, user_id: str) -> int:
        return len(self.db.recovery_codes.where(user_id=user_id, used_at=None))

    async def delete_recovery_codes(self, user_id: str) -> None:
        self._delete(self.db.recovery_codes, lambda row: row.user_id == user_id)

    async def add_passkey(self, passkey: Passkey) -> bool:
        row = PasskeyRow(
            id=passkey.id,
            user_id=passkey.user_id,
            credential_id=passkey.credential_id,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
            name=passkey.name,
            created_at=passkey.created_at,
        )
        return self._try_insert(self.db.passkeys, row)

    async def passkeys_of(self, user_id: str) -> list[Passkey]:
        return [
            _passkey(row)
            for row in sorted(self.db.passkeys.where(user_id=user_id), key=oldest_first)
        ]

    async def passkey_by_credential_id(self, credential_id: str) -> Passkey | None:
        row = self.db.passkeys.first(credential_id=credential_id)
        return _passkey(row) if row else None

    async def record_passkey_use(
        self, passkey_id: str, old_count: int, new_count: int, now: datetime
    ) -> bool:
        row = self.db.passkeys.first(id=passkey_id, sign_count=old_count)
        if row is None:
            return False
        row.sign_count, row.last_used_at = new_count, now
        return True

    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool:
        deleted = self._delete(
            self.db.passkeys, lambda row: row.user_id == user_id and row.id == passkey_id
        )
        return deleted == 1

    async def delete_passkeys(self, user_id: str) -> None:
        self._delete(self.db.passkeys, lambda row: row.user_id == user_id)

    async def add_challenge(
        self,
        *,
        challenge: str,
        binding: str,
        purpose: str,
        user_id: str | None,
        expires_at: datetime,
    ) -> None:
        self._delete(
            self.db.webauthn_challenges,
            lambda row: row.binding == binding and row.purpose == purpose,
        )
        row = ChallengeRow(challenge, binding, purpose, user_id, expires_at)
        self._insert(self.db.webauthn_challenges, row)

    async def live_challenge(
        self, binding: str, purpose: str, now: datetime
    ) -> tuple[str, str | None] | None:
        for row in self.db.webauthn_challenges.where(binding=binding, purpose=purpose):
            if row.expires_at > now:
                return row.challenge, row.user_id
        return None

    async def take_challenge(
        self, challenge: str, binding: str, purpose: str, now: datetime
    ) -> bool:
        deleted = self._delete(
            self.db.webauthn_challenges,
            lambda row: (
                (row.challenge, row.binding, row.purpose) == (challenge, binding, purpose)
                and row.expires_at > now
            ),
        )
        return deleted == 1
