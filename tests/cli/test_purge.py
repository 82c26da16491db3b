"""`paced purge` (SPEC §2): one JSON summary; its retention windows are settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from typer.testing import CliRunner

from paced.cli.main import app
from paced.core.ids import random_base62
from paced.storage.engine import create_engine, dispose
from paced.storage.models import personal_tokens, sessions
from tests.cli.test_users import paced
from tests.databases import run_sync
from tests.token_rows import add_personal_token, add_user


def test_purge_prints_what_it_deleted_and_reads_its_windows_from_settings(
    database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)

    async def old_rows() -> None:
        """A token revoked ten days ago, and a session idle for fifteen."""
        engine = create_engine(database_url)
        try:
            user = await add_user(engine, now - timedelta(days=30))
            await add_personal_token(engine, user, now - timedelta(days=30))
            async with engine.begin() as connection:
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
            await dispose(engine)

    run_sync(old_rows())
    result = paced("purge", database_url=database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    summary = json.loads(result.stdout)
    assert list(summary) == ["deleted", "total", "seconds"]
    assert summary["deleted"] == {
        "authorization_codes": 0,
        "access_tokens": 0,
        "refresh_tokens": 0,
        "grants": 0,
        "personal_tokens": 0,  # revoked 10 days ago: still shown, as history
        "sessions": 1,  # idle past PACED_SESSION_IDLE_DAYS
        "security_events": 0,
        "apps": 0,  # only clients that registered themselves and got no grant
    }
    assert summary["total"] == 1

    shorter = CliRunner().invoke(
        app,
        ["purge"],
        env={"PACED_DATABASE_URL": database_url, "PACED_PURGE_PERSONAL_TOKENS_AFTER_DAYS": "7"},
    )
    assert shorter.exit_code == 0, shorter.stderr
    assert json.loads(shorter.stdout)["deleted"]["personal_tokens"] == 1

    async def gone() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(select(personal_tokens.c.id))).all() == []
        finally:
            await dispose(engine)

    run_sync(gone())
