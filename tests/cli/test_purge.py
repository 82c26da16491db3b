"""`paced purge` (docs/reference.md §2): one JSON summary; its retention windows are settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from paced.core.ids import random_base62
from paced.storage.database import open_database
from paced.storage.models import personal_tokens, sessions
from tests.cli.conftest import invoke
from tests.databases import run_sync
from tests.helpers import begin, connect
from tests.token_rows import add_personal_token, add_user


def test_purge_prints_what_it_deleted_and_reads_its_windows_from_settings(
    database_url: str,
) -> None:
    now = datetime.now(UTC)

    async def old_rows() -> None:
        """A token revoked ten days ago, and a session idle for fifteen."""
        engine = open_database(database_url)
        try:
            user = await add_user(engine, now - timedelta(days=30))
            await add_personal_token(engine, user, now - timedelta(days=30))
            async with begin(engine) as connection:
                await connection.execute(
                    personal_tokens.update().values(revoked_at=now - timedelta(days=10))
                )
                await connection.execute(
                    insert(sessions).values(
                        digest=random_base62(64),
                        user_id=user.id,
                        ip="",
                        user_agent="",
                        created_at=now - timedelta(days=30),
                        last_seen_at=now - timedelta(days=15),
                    )
                )
        finally:
            await engine.close()

    run_sync(old_rows())
    result = invoke(database_url, "purge")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    summary = json.loads(result.stdout)
    assert list(summary) == ["revoked", "deleted", "total", "expiry_notices", "seconds"]
    assert summary["revoked"] == {"unused_personal_tokens": 0}  # used within the year
    assert summary["expiry_notices"] == 0
    assert summary["deleted"] == {
        "authorization_codes": 0,
        "device_codes": 0,
        "access_tokens": 0,
        "refresh_tokens": 0,
        "grants": 0,
        "personal_tokens": 0,  # revoked 10 days ago: still shown, as history
        "sessions": 1,  # idle past PACED_SESSION_IDLE_DAYS
        "security_events": 0,
        "one_time_links": 0,
        "mail_queue": 0,
        "webauthn_challenges": 0,
        "apps": 0,  # only clients that registered themselves and got no grant
    }
    assert summary["total"] == 1

    shorter = invoke(database_url, "purge", env={"PACED_PURGE_PERSONAL_TOKENS_AFTER_DAYS": "7"})
    assert shorter.exit_code == 0, shorter.stderr
    assert json.loads(shorter.stdout)["deleted"]["personal_tokens"] == 1

    async def gone() -> None:
        engine = open_database(database_url)
        try:
            async with connect(engine) as connection:
                assert (await connection.execute(select(personal_tokens.c.id))).all() == []
        finally:
            await engine.close()

    run_sync(gone())


def test_purge_revokes_tokens_unused_past_the_setting(database_url: str) -> None:
    now = datetime.now(UTC)
    made: list[str] = []

    async def old_token() -> None:
        engine = open_database(database_url)
        try:
            user = await add_user(engine, now - timedelta(days=400))
            made.append(
                (await add_personal_token(engine, user, now - timedelta(days=400))).token.id
            )
        finally:
            await engine.close()

    run_sync(old_token())
    never = invoke(database_url, "purge", env={"PACED_PAT_UNUSED_REVOKE_AFTER": "0"})
    assert never.exit_code == 0, never.stderr
    assert json.loads(never.stdout)["revoked"] == {"unused_personal_tokens": 0}

    by_default = invoke(database_url, "purge")  # a year
    assert by_default.exit_code == 0, by_default.stderr
    assert json.loads(by_default.stdout)["revoked"] == {"unused_personal_tokens": 1}

    async def revoked() -> None:
        engine = open_database(database_url)
        try:
            async with connect(engine) as connection:
                found = (
                    await connection.execute(
                        select(personal_tokens.c.revoked_at).where(personal_tokens.c.id == made[0])
                    )
                ).scalar_one()
                assert found is not None
        finally:
            await engine.close()

    run_sync(revoked())
