from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from paced.settings import ConfigError, Settings


def test_defaults_follow_the_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./paced.db"
    assert settings.with_port("127.0.0.1", 8123).base_url == "http://127.0.0.1:8123"
    policy = settings.policy()
    assert policy.access_token_ttl == timedelta(seconds=7200)
    assert policy.auth_code_ttl == timedelta(seconds=600)
    assert policy.refresh_token_ttl is None
    assert policy.refresh_token_max_age is None
    assert policy.refresh_reuse_grace == timedelta(0)


def test_environment_and_env_file_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "PACED_ACCESS_TOKEN_TTL=60\nPACED_BASE_URL=https://auth.example/\n"
    )
    monkeypatch.setenv("PACED_REFRESH_TOKEN_TTL", "3600")
    settings = Settings()
    assert settings.access_token_ttl == 60
    assert settings.base_url == "https://auth.example"
    assert settings.policy().refresh_token_ttl == timedelta(hours=1)


def test_sqlite_key_is_generated_once_beside_the_database(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/data/paced.db")
    first = settings.resolved_secret_key()
    key_file = tmp_path / "data" / "paced.db.secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings.resolved_secret_key() == first
    assert len(first) >= 32


def test_postgresql_without_a_key_refuses_to_start() -> None:
    settings = Settings(_env_file=None, database_url="postgresql://u@localhost/db")
    with pytest.raises(ConfigError, match="PACED_SECRET_KEY"):
        settings.resolved_secret_key()


def test_a_configured_key_wins() -> None:
    settings = Settings(
        _env_file=None, database_url="postgresql://u@localhost/db", secret_key="k" * 40
    )
    assert settings.resolved_secret_key() == "k" * 40


def test_negative_ttl_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACED_ACCESS_TOKEN_TTL", "-1")
    with pytest.raises(ValueError):
        Settings(_env_file=None)
