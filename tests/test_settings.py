from __future__ import annotations

import multiprocessing
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


# Audit finding 6: a key an attacker can guess signs every cookie and CSRF token.
SHORT_KEYS = [
    pytest.param("a", id="one letter"),
    pytest.param("k" * 31, id="one byte under 32"),
    pytest.param("  " + "k" * 20 + "  \n", id="short once its surrounding whitespace is off"),
    pytest.param(" " * 40, id="only whitespace"),
]


@pytest.mark.parametrize("key", SHORT_KEYS)
def test_a_secret_key_under_32_bytes_is_refused_with_how_to_make_one(key: str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes") as raised:
        Settings(_env_file=None, secret_key=key)
    assert "secrets.token_urlsafe(32)" in str(raised.value)


def test_a_key_of_32_bytes_is_accepted() -> None:
    settings = Settings(_env_file=None, database_url="postgresql://u@h/db", secret_key="é" * 16)
    assert settings.resolved_secret_key() == "é" * 16


@pytest.mark.parametrize(
    "content",
    [pytest.param("", id="an empty key file"), pytest.param(" \n", id="a blank key file")],
)
def test_an_empty_key_file_is_replaced_by_a_new_key(tmp_path: Path, content: str) -> None:
    key_file = tmp_path / "paced.db.secret-key"
    key_file.write_text(content)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/paced.db")
    key = settings.resolved_secret_key()
    assert len(key) >= 32
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings.resolved_secret_key() == key
    assert [p.name for p in tmp_path.iterdir()] == [key_file.name]  # no temporary file left


def test_a_short_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paced.db.secret-key").write_text("short\n")
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/paced.db")
    with pytest.raises(ConfigError, match=r"paced\.db\.secret-key.*at least 32 bytes"):
        settings.resolved_secret_key()


def _resolve(database_url: str) -> str:
    return Settings(_env_file=None, database_url=database_url).resolved_secret_key()


@pytest.mark.parametrize(
    "content",
    [pytest.param(None, id="no key file yet"), pytest.param("", id="an empty key file")],
)
def test_processes_that_start_together_end_with_one_key(
    tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / "paced.db.secret-key").write_text(content)
    url = f"sqlite:///{tmp_path}/paced.db"
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        keys = set(pool.map(_resolve, [url] * 32))
    (key,) = keys
    assert len(key) >= 32
    assert (tmp_path / "paced.db.secret-key").read_text().strip() == key


# Audit finding 9b: `HTTPS://` is https too; the issuer is written one way only.
def test_the_base_url_scheme_and_host_are_lower_cased() -> None:
    settings = Settings(_env_file=None, base_url="HTTPS://Auth.Example.COM:8443/Path/")
    assert settings.base_url == "https://auth.example.com:8443/Path"
