"""The example deployment in deploy/ keeps secrets out of the proxy's logs."""

from __future__ import annotations

import re
from pathlib import Path

CADDYFILE = Path(__file__).resolve().parent.parent / "deploy" / "Caddyfile"


def _log_block(caddyfile: str) -> str:
    start = caddyfile.index("\tlog {")
    end = caddyfile.index("\n\t}", start)
    return caddyfile[start:end]


# Audit finding 9e: a Location header such as https://client.example/cb?code=… would put
# a live authorization code in the access log.
def test_the_caddy_access_log_drops_the_location_header_that_carries_codes() -> None:
    log = _log_block(CADDYFILE.read_text())
    without_comments = "\n".join(line.split("#", 1)[0] for line in log.splitlines())
    assert re.search(r"format filter \{", without_comments)
    assert re.search(r"\bwrap json\b", without_comments)
    assert re.search(r"fields \{[^}]*resp_headers>Location delete", without_comments)
