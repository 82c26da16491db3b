"""What storage raises when the database, not the code, says no.

Each `Database` turns its driver's errors into these, so that the web layer answers
them without knowing any driver:

    StorageError
    ├── Unavailable   the database cannot serve now: unreachable, restarting, locked,
    │                 out of connections, too slow (503, and the client may retry)
    ├── Unstorable    a value the database refuses, such as a NUL character in
    │                 PostgreSQL text or a number out of range (the request's fault: 400)
    └── Conflict      a unique or foreign key constraint refused a row (the storage rows
                      that expect it catch it; anywhere else it is a bug: 500)

Any other error of a driver is a bug and is raised as it is. The driver's own error is
the new one's `__cause__`, for the logs.
"""

from __future__ import annotations


class StorageError(Exception):
    """The database refused; a subclass says why."""


class Unavailable(StorageError):
    pass


class Unstorable(StorageError):
    pass


class Conflict(StorageError):
    pass


def message_of(error: BaseException) -> str:
    """What a storage error says of the driver's error it stands for: its type and text
    (bound parameters are kept out of the text: paced/storage/sqlite.py, postgres.py)."""
    try:
        text = str(error)
    except Exception:  # some drivers' errors made without arguments cannot say
        text = ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
