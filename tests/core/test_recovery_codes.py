"""Recovery codes: the shape people see, and forgiving typing."""

from __future__ import annotations

import re

import pytest

from paced.core import recovery_codes


def test_ten_distinct_codes_of_ten_characters() -> None:
    codes = recovery_codes.new_codes(10)
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{5}-[0-9a-z]{5}", code) for code in codes)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("abcde-12345", "abcde-12345"),
        ("ABCDE-12345", "abcde-12345"),
        ("abcde12345", "abcde-12345"),
        (" abcde 12345 ", "abcde-12345"),
        ("abcde-1234", None),
        ("abcde-123456", None),
        ("abcdé-12345", None),
        ("abcde_12345", None),
        ("", None),
    ],
    ids=lambda value: repr(value),
)
def test_typing_forgives_case_spaces_and_the_dash_only(typed: str, canonical: str | None) -> None:
    assert recovery_codes.canonical(typed) == canonical


def test_codes_are_stored_as_sha_256_digests() -> None:
    digest = recovery_codes.code_digest("abcde-12345")
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and "abcde" not in digest
