"""docs/secret-scanning.md tells scanners how to recognise our secrets: its regular
expressions and its Python example are read from the page itself and run here against
generated secrets, so that the page cannot drift from `paced.core.token_format`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paced.core import token_format

PAGE = Path(__file__).resolve().parents[1] / "docs" / "secret-scanning.md"
KINDS = {
    "personal access token": token_format.PERSONAL,
    "OAuth access token": token_format.ACCESS,
    "OAuth refresh token": token_format.REFRESH,
    "OAuth client secret": token_format.CLIENT_SECRET,
}


def documented_patterns() -> dict[str, re.Pattern[str]]:
    """The table's `| kind | `regex` |` rows."""
    rows = re.findall(r"^\| ([^|`]+?) \| `([^`]+)` \|$", PAGE.read_text(), re.MULTILINE)
    return {kind: re.compile(pattern) for kind, pattern in rows}


def documented_example() -> dict[str, Any]:
    """The page's Python block, run as a reader would paste it."""
    (block,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(block, str(PAGE), "exec"), namespace)  # noqa: S102 (our own page)
    return namespace


def mangled(secret: str) -> list[str]:
    """Near misses a scanner must not report."""
    body_start = len(secret) - 36

    def swap(i: int) -> str:
        c = secret[i]
        return secret[:i] + ("a" if c != "a" else "b") + secret[i + 1 :]

    return [
        swap(len(secret) - 1),  # the checksum's last character
        swap(body_start),  # the random part's first
        swap(body_start + 29),  # the random part's last
        secret[:body_start]
        + secret[body_start + 1 : body_start + 30]
        + secret[body_start]
        + secret[-6:],
        secret[:-1],  # one short
    ]


SECRETS = [token_format.generate(prefix) for prefix in KINDS.values() for _ in range(50)]


def test_the_table_has_a_pattern_for_every_kind() -> None:
    assert set(documented_patterns()) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS), ids=list(KINDS))
def test_each_pattern_finds_its_own_kind_only(kind: str) -> None:
    pattern = documented_patterns()[kind]
    for secret in SECRETS:
        found = pattern.findall(f"export TOKEN={secret} # deploy")
        assert found == ([secret] if secret.startswith(KINDS[kind]) else []), secret


def test_the_example_recognises_every_generated_secret() -> None:
    example = documented_example()
    is_secret: Callable[[str], bool] = example["is_paced_secret"]
    find: Callable[[str], list[str]] = example["find_paced_secrets"]
    for secret in SECRETS:
        assert is_secret(secret), secret
        assert find(f'config = {{"token": "{secret}"}}\n') == [secret]


def test_the_example_rejects_mangled_secrets() -> None:
    example = documented_example()
    is_secret: Callable[[str], bool] = example["is_paced_secret"]
    find: Callable[[str], list[str]] = example["find_paced_secrets"]
    for secret in SECRETS:
        for near_miss in mangled(secret):
            assert not is_secret(near_miss), near_miss
            assert not token_format.is_well_formed(near_miss, token_format.PERSONAL)
            assert find(f"token: {near_miss}\n") == [], near_miss
    assert find("pt_secret_" + "A" * 36) == []
    assert not is_secret(SECRETS[0] + "0")  # too long


def test_the_example_agrees_with_the_server_on_random_candidates() -> None:
    is_secret: Callable[[str], bool] = documented_example()["is_paced_secret"]
    for secret in SECRETS:
        prefix = next(p for p in token_format.PREFIXES if secret.startswith(p))
        for candidate in (secret, *mangled(secret)):
            assert is_secret(candidate) == token_format.is_well_formed(candidate, prefix)
