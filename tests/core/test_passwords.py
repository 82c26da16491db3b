from __future__ import annotations

import asyncio

import pytest

from paced.core import passwords
from paced.core.errors import Invalid

CHEAP = passwords.Hashing(time_cost=1, memory_kib=1024, parallelism=1)


@pytest.mark.parametrize(
    ("password", "ok"),
    [("1234567", False), ("12345678", True), ("x" * 1024, True), ("x" * 1025, False)],
    ids=[
        "seven characters are too few",
        "eight are enough",
        "1024 are allowed",
        "1025 are too many",
    ],
)
def test_length_rules(password: str, ok: bool) -> None:
    if ok:
        passwords.check_rules(password)
    else:
        with pytest.raises(Invalid) as caught:
            passwords.check_rules(password)
        assert "password" in caught.value.fields


async def test_the_default_hash_is_argon2id_with_the_library_parameters() -> None:
    hashed = await passwords.hasher().hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in hashed


async def test_hash_verifies_only_its_password() -> None:
    hasher = passwords.hasher(CHEAP)
    hashed = await hasher.hash("correct horse")
    assert await hasher.verify(hashed, "correct horse")
    assert not await hasher.verify(hashed, "wrong horse")


async def test_verify_without_a_hash_fails_but_does_the_work() -> None:
    assert await passwords.hasher(CHEAP).verify(None, "anything at all") is False


async def test_a_hash_made_with_other_parameters_needs_rehash() -> None:
    old = await passwords.hasher(CHEAP).hash("correct horse")
    assert passwords.hasher().needs_rehash(old)
    assert not passwords.hasher(CHEAP).needs_rehash(old)


async def test_garbage_hash_does_not_raise() -> None:
    assert await passwords.hasher(CHEAP).verify("not-a-hash", "correct horse") is False


async def test_hashing_leaves_the_event_loop_free() -> None:
    # At the default cost a hash takes about 130 ms: the loop goes on meanwhile.
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(tick())
    try:
        await passwords.hasher().hash("correct horse")
    finally:
        ticking.cancel()
    assert ticks >= 5
