"""Redirect URIs: what may be registered, and whether a requested one matches.

Registration (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §4.1): absolute, without fragment,
wildcard or userinfo; `https`, or `http` on a loopback host; a private-use scheme in
reverse-domain form (`com.example.app:/callback`) for public clients only.

Matching (RFC 9700 §4.1.3): exact string comparison, except that a loopback redirect
over `http` may differ in port only (RFC 8252 §7.3), since a native app listens on
whatever port the system gives it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URIS = 10
MAX_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
# RFC 3986 §3.1 scheme syntax, with at least one dot: a reverse domain name (RFC 8252 §7.1).
_PRIVATE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad line of the redirect URIs field."""

    line: int  # 1-based, counting blank lines too
    uri: str
    message: str

    def __str__(self) -> str:
        if not self.uri:  # the field is empty: there is no line to name
            return self.message
        shown = self.uri if len(self.uri) <= 80 else self.uri[:77] + "..."
        return f"Line {self.line} ({shown}): {self.message}"


def lines(text: str) -> list[tuple[int, str]]:
    """(line number, URI) for each non-blank line of a textarea."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def problem(uri: str, *, public: bool) -> str | None:
    """Why `uri` cannot be registered, or None when it can."""
    if len(uri) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if any(c.isspace() for c in uri):
        return "Remove the spaces: a URI cannot contain any."
    if not uri.isascii() or not uri.isprintable():
        return "Percent-encode characters outside printable ASCII."
    if "#" in uri:
        # RFC 6749 §3.1.2: the endpoint URI must not include a fragment component.
        return "Remove the fragment (the part from #): a redirect URI cannot have one."
    if "*" in uri:
        # RFC 9700 §4.1.3: exact matching; no patterns.
        return "Remove the wildcard (*): register each URI exactly as it will be used."
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return "This is not a valid URI; check the host and the port."
    scheme = parts.scheme.lower()
    if not scheme:
        # RFC 6749 §3.1.2: an absolute URI.
        return "Write the full URI, starting with https://."
    if "@" in parts.netloc:
        # RFC 9700 §4.1.3 (and §2.1): credentials in a URI invite open-redirect tricks.
        return "Remove the user name or password (the part before @)."
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"Add a host name after {scheme}://."
        if port == 0:
            return "The port must be a number from 1 to 65535."
        if scheme == "http" and _host(parts.netloc) not in LOOPBACK_HOSTS:
            # RFC 9700 §4.1 / RFC 6749 §3.1.2.1: TLS, except for a loopback redirect.
            return "Use https: plain http is allowed only on 127.0.0.1, [::1] or localhost."
        return None
    if _PRIVATE_SCHEME.match(scheme):
        # RFC 8252 §7.1: private-use URI schemes belong to native (public) apps.
        if not public:
            return (
                "A private-use scheme like com.example.app:/callback is for public clients "
                "only: register the app as public, or use https."
            )
        if not uri[len(scheme) + 1 :].strip("/"):
            return "Add a path after the scheme, like com.example.app:/callback."
        return None
    if public:
        return (
            "Use https, http on 127.0.0.1, [::1] or localhost, "
            "or a reverse-domain scheme like com.example.app:/callback."
        )
    return "Use https, or http on 127.0.0.1, [::1] or localhost."


def problems(text: str, *, public: bool) -> list[Problem]:
    """Every bad line, each with its own message; empty when all can be registered."""
    found: list[Problem] = []
    entries = lines(text)
    if not entries:
        return [Problem(1, "", "Enter at least one redirect URI.")]
    seen: dict[str, int] = {}
    for number, uri in entries:
        message = problem(uri, public=public)
        if message is None and uri in seen:
            message = f"This URI is already on line {seen[uri]}."
        if message is not None:
            found.append(Problem(number, uri, message))
        seen.setdefault(uri, number)
    if len(entries) > MAX_URIS:
        last, uri = entries[MAX_URIS]
        found.append(Problem(last, uri, f"Register at most {MAX_URIS} redirect URIs."))
    return found


def _host(netloc: str) -> str:
    """The host of an authority as written (lower-cased), without port or userinfo."""
    netloc = netloc.rpartition("@")[2].lower()
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


def _loopback_key(uri: str) -> str | None:
    """An `http` loopback URI with its port taken out; None for any other URI."""
    if not uri.startswith("http://"):
        return None
    rest = uri[len("http://") :]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    if "@" in netloc:
        return None
    host = _host(netloc)
    if host not in LOOPBACK_HOSTS:
        return None
    port = netloc[len(host) :]
    if port and not (port.startswith(":") and is_port(port[1:])):
        return None
    return "http://" + netloc[: len(host)] + tail


def is_port(text: str) -> bool:
    """Whether `text` is a TCP port a redirect may name: ASCII digits only (RFC 3986 §3.2.3
    `port = *DIGIT`; `str.isdigit` also takes `١٢` and `²`), from 1 to 65535 (RFC 6335 §6)."""
    return 0 < len(text) <= 5 and text.isascii() and text.isdigit() and 0 < int(text) <= 65535


def matches(registered: Sequence[str], requested: str) -> bool:
    """Whether `requested` is one of the `registered` redirect URIs (RFC 9700 §4.1.3)."""
    if requested in registered:
        return True
    # RFC 8252 §7.3: a loopback redirect may differ in port only.
    key = _loopback_key(requested)
    return key is not None and any(_loopback_key(uri) == key for uri in registered)
