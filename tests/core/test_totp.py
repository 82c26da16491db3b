"""Authenticator-app codes (RFC 6238) with the time injected, and their secret's
encryption at rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from paced.core import totp

# RFC 6238 Appendix B's SHA-1 key ("12345678901234567890") in base32.
RFC_KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NOW = datetime(2026, 1, 15, 12, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
    ids=["at 59 s", "in 2005", "in 2009", "in 2033"],
)
def test_the_rfc_6238_test_vectors_match_their_step(unix_time: int, code: str) -> None:
    # Appendix B lists 8-digit codes; a 6-digit code is their last six digits.
    now = datetime.fromtimestamp(unix_time, UTC)
    assert totp.matching_step(RFC_KEY, code, now) == unix_time // 30


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-2, False), (-1, True), (0, True), (1, True), (2, False)],
    ids=["two steps early", "one step early", "now", "one step late", "two steps late"],
)
def test_one_step_either_side_of_now_is_accepted(offset: int, accepted: bool) -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(NOW, counter_offset=offset)
    step = totp.matching_step(secret, code, NOW)
    assert (step == totp.step_of(NOW) + offset) if accepted else step is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "abcdef"], ids=repr)
def test_what_cannot_be_a_code_matches_nothing(typed: str) -> None:
    assert totp.matching_step(totp.new_secret(), typed, NOW) is None


def test_spaces_and_a_dash_in_the_middle_are_forgiven() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", NOW) == totp.step_of(NOW)
    assert totp.matching_step(secret, f"{code[:3]}-{code[3:]}", NOW) == totp.step_of(NOW)


def test_a_secret_holds_160_random_bits_in_base32() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.new_secret() != secret


def test_the_provisioning_uri_names_the_issuer_and_the_account() -> None:
    uri = totp.provisioning_uri(RFC_KEY, "ann@example.com")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Paced%20Email:ann%40example.com"
    query = parse_qs(parts.query)
    assert query["secret"] == [RFC_KEY] and query["issuer"] == ["Paced Email"]


def test_the_sealed_secret_opens_only_for_its_account_and_key() -> None:
    box = totp.SecretBox("k" * 40)
    sealed = box.seal("user_a", RFC_KEY)
    assert RFC_KEY not in sealed
    assert box.open("user_a", sealed) == RFC_KEY
    assert box.open("user_b", sealed) is None
    assert totp.SecretBox("j" * 40).open("user_a", sealed) is None
    assert box.open("user_a", "not base64!") is None
    assert box.seal("user_a", RFC_KEY) != sealed  # a fresh nonce each time


def test_steps_are_thirty_seconds() -> None:
    assert totp.step_of(NOW + timedelta(seconds=30)) == totp.step_of(NOW) + 1
