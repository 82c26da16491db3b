from __future__ import annotations

import zlib

import pytest

from paced.core import token_format
from paced.core.ids import BASE62, to_base62


@pytest.mark.parametrize("prefix", ["pt_secret_", "pt_oauth_", "pt_refresh_", "pt_client_"])
def test_generated_tokens_are_well_formed(prefix: token_format.Prefix) -> None:
    token = token_format.generate(prefix)
    assert token.startswith(prefix)
    assert len(token) == len(prefix) + 36
    assert token_format.is_well_formed(token, prefix)


def test_checksum_is_crc32_in_base62_most_significant_first() -> None:
    random_part = "A" * 30
    crc = zlib.crc32(random_part.encode())
    digits = ""
    while crc:
        crc, rest = divmod(crc, 62)
        digits = BASE62[rest] + digits
    assert token_format.checksum(random_part) == digits.rjust(6, "0")
    assert to_base62(0, 6) == "000000"
    assert to_base62(61, 6) == "00000z"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
        lambda t: t[:12] + ("a" if t[12] != "a" else "b") + t[13:],
        lambda t: t[:-1],
        lambda t: t + "0",
        lambda t: t.replace("pt_secret_", "pt_oauth_"),
        lambda t: t[:-7] + "-" + t[-6:],
        lambda t: "",
    ],
    ids=[
        "a changed checksum",
        "a changed random character",
        "one character short",
        "one character long",
        "another prefix",
        "a character outside base62",
        "nothing at all",
    ],
)
def test_malformed_tokens_are_refused(mangle: object) -> None:
    token = token_format.generate("pt_secret_")
    assert not token_format.is_well_formed(mangle(token), "pt_secret_")  # type: ignore[operator]


def test_hint_is_the_prefix_and_the_last_four_characters() -> None:
    token = token_format.generate(token_format.PERSONAL)
    assert token_format.hint(token) == "pt_secret_…" + token[-4:]
    assert token_format.hint("pt_client_" + "a" * 36) == "pt_client_…aaaa"
    # An authorization code has no prefix: the hint is its last characters alone.
    assert token_format.hint("abcdefgh") == "…efgh"
