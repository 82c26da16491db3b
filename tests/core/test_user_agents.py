"""Browsers in words, for the sessions list and the security log."""

from __future__ import annotations

import pytest

from paced.core.user_agents import describe

CASES = [
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome 131 on macOS",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Firefox 133 on Windows",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mobile Safari 17 on iOS",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Chrome Mobile 131 on Android",
    ),
    ("curl/8.5.0", "curl 8"),
    ("", "Unknown browser"),
    ("pytest", "Unknown browser"),
]


@pytest.mark.parametrize(("user_agent", "words"), CASES, ids=[words for _, words in CASES])
def test_a_user_agent_reads_as_browser_and_system(user_agent: str, words: str) -> None:
    assert describe(user_agent) == words
