"""Password rules and argon2id hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paced.core.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when no account matches, so that an unknown email costs what a wrong password does.
_DUMMY_HASH = _hasher.hash("paced-dummy-password-for-timing")


def check_rules(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(fields={field: f"Use at least {MIN_LENGTH} characters."})
    if len(password) > MAX_LENGTH:
        raise Invalid(fields={field: f"Use at most {MAX_LENGTH} characters."})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash to check against."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
