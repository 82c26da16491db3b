"""Password rules and argon2id hashing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paced.core.errors import Invalid

T = TypeVar("T")

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
    """argon2id hashing and verification, beside the event loop.

    One hash costs about 130 ms of CPU and 64 MiB at the default cost. On the loop, each
    sign-in would stop every other request of the process for that long; so they run on
    a thread of their own, which argon2 lets run in parallel with the loop (it releases
    the GIL), one at a time, so that a burst of sign-ins costs the memory of one.
    """

    def __init__(self, hashing: Hashing) -> None:
        self._argon2 = PasswordHasher(
            time_cost=hashing.time_cost,
            memory_cost=hashing.memory_kib,
            parallelism=hashing.parallelism,
        )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paced-passwords")
        # Verified when no account matches, so that an unknown email costs what a wrong
        # password does. Made first thing on the thread: done before any other job runs.
        self._dummy = self._thread.submit(self._argon2.hash, "paced-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        return await self._on_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        return await self._on_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        return self._argon2.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            ok = self._argon2.verify(password_hash or self._dummy.result(), password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    async def _on_thread(self, work: Callable[..., T], *arguments: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, *arguments)


@lru_cache(maxsize=4)
def hasher(hashing: Hashing = DEFAULT) -> Hasher:
    return Hasher(hashing)


def check_rules(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(fields={field: f"Use at least {MIN_LENGTH} characters."})
    if len(password) > MAX_LENGTH:
        raise Invalid(fields={field: f"Use at most {MAX_LENGTH} characters."})
