"""Text that people type: names, emails, descriptions, and the identifiers clients send."""

from __future__ import annotations

import unicodedata

CONTROL_MESSAGE = (
    "Remove the control characters, and invisible ones such as a zero-width space or a "
    "right-to-left override: use letters, digits, spaces and punctuation."
)
# Zero-width non-joiner and joiner: format characters that Persian, the Indic scripts and
# emoji sequences need inside a word (RFC 5892 Appendix A.1, A.2).
JOINERS = frozenset("\u200c\u200d")


def has_controls(text: str, *, multiline: bool = False, joiners: bool = False) -> bool:
    """Whether `text` holds a control character (C0, DEL or C1) or an invisible format
    character (Unicode category Cf: directional overrides, isolates and marks, zero-width
    spaces, the byte order mark...). No name, address or identifier needs one, and
    PostgreSQL cannot store NUL in text. A multi-line text may hold line breaks and tabs;
    a name may hold the joiners of its script (`joiners`)."""
    allowed = "\t\n\r" if multiline else ""
    if any((c < " " or "\x7f" <= c <= "\x9f") and c not in allowed for c in text):
        return True
    # OWASP Input Validation Cheat Sheet, UTS #39 §3.1: text that reads one way and is
    # another (U+202E shows "Safe\u202eppA" as "SafeApp"). ASCII has no format character.
    return not text.isascii() and any(_is_format(c, joiners) for c in text)


def _is_format(c: str, joiners: bool) -> bool:
    return unicodedata.category(c) == "Cf" and not (joiners and c in JOINERS)
