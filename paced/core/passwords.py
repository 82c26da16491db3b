"""Password rules and argon2id hashing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paced.core.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Hashing:
    """argon2id cost; the defaults are the library's (RFC 9106's second recommendation)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


DEFAULT = Hashing()


class Hasher:
    def __init__(self, hashing: Hashing) -> None:
        self._argon2 = PasswordHasher(
            time_cost=hashing.time_cost,
            memory_cost=hashing.memory_kib,
            parallelism=hashing.parallelism,
        )
        # Verified when no account matches, so that an unknown email costs what a wrong
        # password does.
        self._dummy = self._argon2.hash("paced-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        try:
            ok = self._argon2.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        return self._argon2.check_needs_rehash(password_hash)


@lru_cache(maxsize=4)
def hasher(hashing: Hashing = DEFAULT) -> Hasher:
    return Hasher(hashing)


def check_rules(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(fields={field: f"Use at least {MIN_LENGTH} characters."})
    if len(password) > MAX_LENGTH:
        raise Invalid(fields={field: f"Use at most {MAX_LENGTH} characters."})
