"""PKCE, S256 only (RFC 7636)."""

from __future__ import annotations

import pytest

from paced.core import pkce

# RFC 7636 Appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_of_the_rfc_7636_appendix_b_verifier_is_its_challenge() -> None:
    assert pkce.challenge_of(VERIFIER) == CHALLENGE


def test_section_4_6_the_matching_verifier_answers_the_challenge() -> None:
    assert pkce.verify(VERIFIER, CHALLENGE)


@pytest.mark.parametrize(
    "verifier",
    [
        VERIFIER[:-1] + "Y",
        CHALLENGE,
        "",
        "a" * 42,
        "a" * 129,
        VERIFIER[:-1] + "+",
        VERIFIER[:-1] + "/",
        VERIFIER[:-1] + "=",
        VERIFIER[:-1] + "é",
        VERIFIER + "\n",
    ],
    ids=[
        "a verifier one character off does not answer",
        "the challenge itself (as plain would send it) does not answer",
        "an empty verifier does not answer",
        "42 characters are too short (section 4.1)",
        "129 characters are too long (section 4.1)",
        "a plus sign is not an unreserved character",
        "a slash is not an unreserved character",
        "an equals sign is not an unreserved character",
        "a non-ASCII letter is not an unreserved character",
        "a trailing newline is not an unreserved character",
    ],
)
def test_section_4_6_any_other_verifier_does_not_answer(verifier: str) -> None:
    assert not pkce.verify(verifier, CHALLENGE)


@pytest.mark.parametrize(
    ("verifier", "valid"),
    [
        ("a" * 43, True),
        ("a" * 128, True),
        ("AZaz09-._~" * 5, True),
        ("a" * 42, False),
        ("a" * 129, False),
        ("a" * 42 + " ", False),
    ],
    ids=[
        "43 unreserved characters are the shortest verifier",
        "128 unreserved characters are the longest verifier",
        "letters digits hyphen period underscore and tilde are allowed",
        "42 characters are one too few",
        "129 characters are one too many",
        "a space is not allowed",
    ],
)
def test_section_4_1_verifier_syntax(verifier: str, valid: bool) -> None:
    assert pkce.is_valid_verifier(verifier) is valid
    # Every well-formed verifier answers its own S256 challenge.
    assert pkce.verify(verifier, pkce.challenge_of(verifier)) is valid


@pytest.mark.parametrize(
    ("challenge", "valid"),
    [
        (CHALLENGE, True),
        (CHALLENGE[:-1], False),
        (CHALLENGE + "A", False),
        (CHALLENGE + "=", False),
        (CHALLENGE[:-1] + "+", False),
        (CHALLENGE[:-1] + ".", False),
        (CHALLENGE + "\n", False),
    ],
    ids=[
        "an S256 challenge is 43 base64url characters",
        "42 characters are not an S256 challenge",
        "44 characters are not an S256 challenge",
        "padding is not allowed",
        "standard base64 characters are not base64url",
        "a period is allowed in a verifier but not in a challenge",
        "a trailing newline is refused",
    ],
)
def test_section_4_2_challenge_syntax(challenge: str, valid: bool) -> None:
    assert pkce.is_valid_challenge(challenge) is valid


def test_a_malformed_challenge_is_answered_by_no_verifier() -> None:
    assert not pkce.verify(VERIFIER, CHALLENGE + "=")


def test_only_s256_is_offered() -> None:
    assert pkce.METHODS == ("S256",)
