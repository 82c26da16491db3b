from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from paced.core import passwords
from paced.core.errors import Invalid


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


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = passwords.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert passwords.verify(hashed, "correct horse")
    assert not passwords.verify(hashed, "wrong horse")


def test_verify_without_a_hash_fails_but_does_the_work() -> None:
    assert passwords.verify(None, "anything at all") is False


def test_a_hash_made_with_old_parameters_needs_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse"))


def test_garbage_hash_does_not_raise() -> None:
    assert passwords.verify("not-a-hash", "correct horse") is False
