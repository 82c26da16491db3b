from __future__ import annotations

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


def test_the_default_hash_is_argon2id_with_the_library_parameters() -> None:
    hashed = passwords.hasher().hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in hashed


def test_hash_verifies_only_its_password() -> None:
    hasher = passwords.hasher(CHEAP)
    hashed = hasher.hash("correct horse")
    assert hasher.verify(hashed, "correct horse")
    assert not hasher.verify(hashed, "wrong horse")


def test_verify_without_a_hash_fails_but_does_the_work() -> None:
    assert passwords.hasher(CHEAP).verify(None, "anything at all") is False


def test_a_hash_made_with_other_parameters_needs_rehash() -> None:
    old = passwords.hasher(CHEAP).hash("correct horse")
    assert passwords.hasher().needs_rehash(old)
    assert not passwords.hasher(CHEAP).needs_rehash(old)


def test_garbage_hash_does_not_raise() -> None:
    assert passwords.hasher(CHEAP).verify("not-a-hash", "correct horse") is False
