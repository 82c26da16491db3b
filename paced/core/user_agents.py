"""A browser in words, from its User-Agent header: "Chrome 131 on macOS", through the
maintained ua-parser (the rules of BrowserScope's uap-core), imported on the first
description: its rules are a few MiB that an API-only worker never needs."""

from __future__ import annotations

from functools import lru_cache

# uap-core's names for some systems, as people call them today.
_SYSTEMS = {"Mac OS X": "macOS", "Mac OS": "macOS"}
UNKNOWN = "Unknown browser"


@lru_cache(maxsize=1024)
def describe(user_agent: str) -> str:
    """ "Chrome 131 on macOS"; the browser or the system alone when only one is known."""
    if not user_agent:
        return UNKNOWN
    from ua_parser import parse

    result = parse(user_agent[:1000])
    browser = system = ""
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = result.user_agent.family
        if result.user_agent.major:
            browser += f" {result.user_agent.major}"
    if result.os is not None and result.os.family != "Other":
        system = _SYSTEMS.get(result.os.family, result.os.family)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else UNKNOWN)
