"""TotpStore, RecoveryCodeStore and PasskeyStore over SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from paced.core.records import Passkey, TotpCredential
from paced.storage.connection import StorageConnection
from paced.storage.errors import Conflict
from paced.storage.models import passkeys, recovery_codes, totp_credentials, webauthn_challenges


class TotpRows:
    connection: StorageConnection

    async def totp_of(self, user_id: str) -> TotpCredential | None:
        row = (
            await self.connection.execute(
                select(totp_credentials).where(totp_credentials.c.user_id == user_id)
            )
        ).first()
        if row is None:
            return None
        return TotpCredential(
            user_id=row.user_id,
            secret=row.secret,
            pending_secret=row.pending_secret,
            last_step=row.last_step,
            enabled_at=row.enabled_at,
        )

    async def set_pending_totp(self, user_id: str, sealed: str) -> None:
        updated = await self.connection.execute(
            update(totp_credentials)
            .where(totp_credentials.c.user_id == user_id)
            .values(pending_secret=sealed)
        )
        if updated.rowcount == 1:
            return
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    insert(totp_credentials).values(user_id=user_id, pending_secret=sealed)
                )
        except Conflict:  # a concurrent set-up inserted it first
            await self.connection.execute(
                update(totp_credentials)
                .where(totp_credentials.c.user_id == user_id)
                .values(pending_secret=sealed)
            )

    async def confirm_totp(self, user_id: str, pending: str, step: int, now: datetime) -> bool:
        result = await self.connection.execute(
            update(totp_credentials)
            .where(
                totp_credentials.c.user_id == user_id,
                totp_credentials.c.pending_secret == pending,
            )
            .values(secret=pending, pending_secret=None, last_step=step, enabled_at=now)
        )
        return result.rowcount == 1

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        result = await self.connection.execute(
            update(totp_credentials)
            .where(
                totp_credentials.c.user_id == user_id,
                totp_credentials.c.secret.is_not(None),
                or_(totp_credentials.c.last_step.is_(None), totp_credentials.c.last_step < step),
            )
            .values(last_step=step)
        )
        return result.rowcount == 1

    async def delete_totp(self, user_id: str) -> None:
        await self.connection.execute(
            delete(totp_credentials).where(totp_credentials.c.user_id == user_id)
        )


class RecoveryCodeRows:
    connection: StorageConnection

    async def replace_recovery_codes(self, user_id: str, digests: list[str], now: datetime) -> None:
        await self.connection.execute(
            delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
        )
        await self.connection.execute(
            insert(recovery_codes),
            [{"user_id": user_id, "digest": d, "created_at": now} for d in digests],
        )

    async def use_recovery_code(self, user_id: str, digest: str, now: datetime) -> bool:
        result = await self.connection.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.digest == digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def recovery_codes_left(self, user_id: str) -> int:
        count = await self.connection.execute(
            select(func.count()).where(
                recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
            )
        )
        return int(count.scalar_one())

    async def delete_recovery_codes(self, user_id: str) -> None:
        await self.connection.execute(
            delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
        )


def _passkey(row: Any) -> Passkey:
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


class PasskeyRows:
    connection: StorageConnection

    async def add_passkey(self, passkey: Passkey) -> bool:
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    insert(passkeys).values(
                        id=passkey.id,
                        user_id=passkey.user_id,
                        credential_id=passkey.credential_id,
                        public_key=passkey.public_key,
                        sign_count=passkey.sign_count,
                        name=passkey.name,
                        created_at=passkey.created_at,
                    )
                )
        except Conflict:
            return False
        return True

    async def passkeys_of(self, user_id: str) -> list[Passkey]:
        rows = await self.connection.execute(
            select(passkeys)
            .where(passkeys.c.user_id == user_id)
            .order_by(passkeys.c.created_at, passkeys.c.id)
        )
        return [_passkey(row) for row in rows]

    async def passkey_by_credential_id(self, credential_id: str) -> Passkey | None:
        row = (
            await self.connection.execute(
                select(passkeys).where(passkeys.c.credential_id == credential_id)
            )
        ).first()
        return _passkey(row) if row else None

    async def record_passkey_use(
        self, passkey_id: str, old_count: int, new_count: int, now: datetime
    ) -> bool:
        result = await self.connection.execute(
            update(passkeys)
            .where(passkeys.c.id == passkey_id, passkeys.c.sign_count == old_count)
            .values(sign_count=new_count, last_used_at=now)
        )
        return result.rowcount == 1

    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool:
        result = await self.connection.execute(
            delete(passkeys).where(passkeys.c.user_id == user_id, passkeys.c.id == passkey_id)
        )
        return result.rowcount == 1

    async def delete_passkeys(self, user_id: str) -> None:
        await self.connection.execute(delete(passkeys).where(passkeys.c.user_id == user_id))

    async def add_challenge(
        self,
        *,
        challenge: str,
        binding: str,
        purpose: str,
        user_id: str | None,
        expires_at: datetime,
    ) -> None:
        await self.connection.execute(
            delete(webauthn_challenges).where(
                webauthn_challenges.c.binding == binding,
                webauthn_challenges.c.purpose == purpose,
            )
        )
        await self.connection.execute(
            insert(webauthn_challenges).values(
                challenge=challenge,
                binding=binding,
                purpose=purpose,
                user_id=user_id,
                expires_at=expires_at,
            )
        )

    async def live_challenge(
        self, binding: str, purpose: str, now: datetime
    ) -> tuple[str, str | None] | None:
        row = (
            await self.connection.execute(
                select(webauthn_challenges.c.challenge, webauthn_challenges.c.user_id).where(
                    webauthn_challenges.c.binding == binding,
                    webauthn_challenges.c.purpose == purpose,
                    webauthn_challenges.c.expires_at > now,
                )
            )
        ).first()
        return (row.challenge, row.user_id) if row else None

    async def take_challenge(
        self, challenge: str, binding: str, purpose: str, now: datetime
    ) -> bool:
        result = await self.connection.execute(
            delete(webauthn_challenges).where(
                and_(
                    webauthn_challenges.c.challenge == challenge,
                    webauthn_challenges.c.binding == binding,
                    webauthn_challenges.c.purpose == purpose,
                    webauthn_challenges.c.expires_at > now,
                )
            )
        )
        return result.rowcount == 1
