"""Scopes (docs/reference.md §4): `read` and `write`; a request that names none gets `read`."""

from __future__ import annotations

from collections.abc import Iterable

from paced.core.errors import InvalidScope, shown

ALL: tuple[str, ...] = ("read", "write")
DEFAULT: tuple[str, ...] = ("read",)

DESCRIPTIONS: dict[str, str] = {
    "read": "Read your account data",
    "write": "Change your account data",
}


def normalize(scopes: Iterable[str]) -> tuple[str, ...]:
    """Known scopes in canonical order, each once; unknown ones raise InvalidScope."""
    wanted = set(scopes)
    unknown = sorted(wanted.difference(ALL))
    if unknown:
        listed = ", ".join(shown(name) for name in unknown[:3])
        raise InvalidScope(f"Unknown scope: {listed}{', ...' if len(unknown) > 3 else ''}.")
    return tuple(s for s in ALL if s in wanted)


def parse(text: str | None) -> tuple[str, ...]:
    """A `scope` parameter (RFC 6749 §3.3: space-delimited); absent or empty is the default."""
    if text is None or not text.strip():
        return DEFAULT
    return normalize(text.split())


def render(scopes: Iterable[str]) -> str:
    return " ".join(scopes)
