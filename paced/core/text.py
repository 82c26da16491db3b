"""Text that people type: names, emails, descriptions, and the identifiers clients send."""

from __future__ import annotations

CONTROL_MESSAGE = "Remove the control characters: use letters, digits, spaces and punctuation."


def has_controls(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds a control character (C0, DEL or C1). No name, address or
    identifier needs one, and PostgreSQL cannot store NUL in text; a multi-line text may
    hold line breaks and tabs."""
    allowed = "\t\n\r" if multiline else ""
    return any((c < " " or "\x7f" <= c <= "\x9f") and c not in allowed for c in text)
