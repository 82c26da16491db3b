"""Which characters a name, an address or an identifier may not hold."""

from __future__ import annotations

import pytest

from paced.core.text import has_controls

REFUSED = [
    ("a\x00b", "a NUL"),
    ("a\x1bb", "an escape"),
    ("a\x7fb", "DEL"),
    ("a\x85b", "a C1 next-line"),
    ("Safe\u202eppA", "a right-to-left override"),
    ("Safe\u202dApp", "a left-to-right override"),
    ("Safe\u202bApp", "a right-to-left embedding"),
    ("Safe\u2067App", "a right-to-left isolate"),
    ("Safe\u2069App", "a pop directional isolate"),
    ("Safe\u200fApp", "a right-to-left mark"),
    ("Safe\u200eApp", "a left-to-right mark"),
    ("Safe\u200bApp", "a zero-width space"),
    ("Safe\u2060App", "a word joiner"),
    ("\ufeffSafeApp", "a byte order mark"),
    ("Safe\u00adApp", "a soft hyphen"),
    ("Safe\U000e0041App", "a tag character"),
]


@pytest.mark.parametrize("text", [t for t, _ in REFUSED], ids=[i for _, i in REFUSED])
@pytest.mark.parametrize("joiners", [False, True], ids=["in an address", "in a name"])
def test_control_and_invisible_format_characters_are_refused(text: str, joiners: bool) -> None:
    assert has_controls(text, joiners=joiners)


ALLOWED = [
    ("Zapier sync", "plain ASCII"),
    ("Zoë Ørsted-Łukasz", "accented Latin letters"),
    ("\u0645\u0631\u06cc\u0645", "Persian letters"),
    ("\u5c71\u7530", "Han characters"),
    ("\u00a0", "a no-break space"),
]


@pytest.mark.parametrize("text", [t for t, _ in ALLOWED], ids=[i for _, i in ALLOWED])
def test_visible_text_in_any_script_is_allowed(text: str) -> None:
    assert not has_controls(text)


JOINED = [
    (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "a Persian word with a zero-width non-joiner",
    ),
    ("\u0915\u094d\u200d\u0937", "a Devanagari conjunct with a zero-width joiner"),
    ("\U0001f469\u200d\U0001f4bb", "an emoji sequence"),
]


@pytest.mark.parametrize("text", [t for t, _ in JOINED], ids=[i for _, i in JOINED])
def test_rfc_5892_joiners_are_allowed_in_names_but_not_in_addresses(text: str) -> None:
    assert not has_controls(text, joiners=True)
    assert has_controls(text)


def test_line_breaks_and_tabs_only_in_multiline_text() -> None:
    assert has_controls("one\ntwo")
    assert not has_controls("one\r\ntwo\tthree", multiline=True)
    assert has_controls("one\n\u202etwo", multiline=True)
