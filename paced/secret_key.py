"""PACED_SECRET_KEY's rule: at least 32 bytes, from the environment or, on SQLite, from a
key file beside the database that the first process to start writes and every other
reads (docs/configuration.md)."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The key signs sessions' CSRF tokens and flash cookies and seals the cookie that carries
# a new secret: anything shorter than a 256-bit key invites guessing it offline.
MIN_BYTES = 32
HOW_TO_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


def weakness(key: str, source: str) -> str | None:
    """Why `key` (from `source`) may not sign anything, or None when it is long enough."""
    if len(key.strip().encode()) >= MIN_BYTES:
        return None
    return f"{source} must be at least {MIN_BYTES} bytes; {HOW_TO_MAKE_ONE}"


def from_file(key_file: Path) -> str:
    """The key in `key_file`, written first if it is missing or blank.

    Processes that start together end with one key: a new file appears whole under its
    name (a link to a complete temporary file) or not at all, and a blank one (left by a
    crash of an older version) is replaced under a lock, by the first to take it.
    Raises ValueError when the file holds a key under `MIN_BYTES`."""
    key = _read(key_file)
    if key is None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = _publish(key_file) or _read(key_file)
    if not key:
        key = _replace_blank(key_file)
    problem = weakness(key, f"the key file {key_file}")
    if problem:
        raise ValueError(problem)
    return key


def _read(key_file: Path) -> str | None:
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        return None


def _publish(key_file: Path) -> str | None:
    """Link a new key file into place; None when another process's file is there."""
    key = secrets.token_urlsafe(MIN_BYTES)
    with _written(key_file, key) as temporary:
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            return None
    _sync_folder(key_file.parent)
    return key


def _replace_blank(key_file: Path) -> str:
    with open(key_file, "rb") as held:
        # Whoever locks it first writes; the others wait, then read what it wrote. The
        # lock is on the blank file's inode, which the winner's os.replace retires.
        fcntl.flock(held, fcntl.LOCK_EX)
        key = _read(key_file)
        if key:
            return key
        key = secrets.token_urlsafe(MIN_BYTES)
        with _written(key_file, key) as temporary:
            os.replace(temporary, key_file)
        _sync_folder(key_file.parent)
        return key


@contextmanager
def _written(key_file: Path, key: str) -> Iterator[Path]:
    """A temporary file (mode 0600, beside `key_file`) holding `key`, on disk."""
    temporary = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
