"""Which redirect URIs may be registered, and which requested ones match."""

from __future__ import annotations

import pytest

from paced.core.redirect_uris import matches, problem, problems

GOOD = [
    ("https://example.com/callback", False, "an https URI"),
    ("https://example.com:8443/oauth/cb?source=paced", False, "https with a port and a query"),
    ("http://127.0.0.1/callback", False, "http on 127.0.0.1"),
    ("http://127.0.0.1:8080/callback", True, "http on 127.0.0.1 with a port"),
    ("http://[::1]:3000/cb", True, "http on the IPv6 loopback"),
    ("http://localhost:5000/auth", False, "http on localhost"),
    ("com.example.app:/callback", True, "a reverse-domain private-use scheme for a public app"),
    ("com.example.app://callback", True, "a private-use scheme with two slashes"),
    ("https://example.com", False, "https with no path"),
]

BAD = [
    ("/callback", False, "Write the full URI", "a relative path is refused"),
    ("example.com/callback", False, "Write the full URI", "a URI without a scheme is refused"),
    ("https://example.com/cb#frag", False, "fragment", "a fragment is refused"),
    ("https://example.com/cb#", False, "fragment", "an empty fragment is refused"),
    ("https://*.example.com/cb", False, "wildcard", "a wildcard host is refused"),
    ("https://example.com/*", False, "wildcard", "a wildcard path is refused"),
    ("https://user:pw@example.com/cb", False, "user name or password", "userinfo is refused"),
    ("https://evil.com@example.com/cb", False, "user name", "a user name alone is refused"),
    ("http://example.com/callback", False, "plain http", "http on a public host is refused"),
    ("http://localhost.evil.com/cb", False, "plain http", "a look-alike of localhost is refused"),
    ("http://127.0.0.2/cb", False, "plain http", "another loopback address is refused"),
    ("http://10.0.0.1/cb", False, "plain http", "http on a private address is refused"),
    (
        "com.example.app:/callback",
        False,
        "public clients only",
        "a private-use scheme for a confidential app is refused",
    ),
    ("com.example.app:", True, "Add a path", "a private-use scheme with nothing after it"),
    ("myapp:/callback", True, "reverse-domain", "a custom scheme without a dot is refused"),
    ("javascript:alert(1)", True, "Use https", "javascript is refused"),
    ("data:text/html,hi", False, "Use https", "data is refused"),
    ("ftp://example.com/cb", False, "Use https", "ftp is refused"),
    ("https:///cb", False, "Add a host name", "https without a host is refused"),
    ("https://example.com:99999/cb", False, "not a valid URI", "an impossible port is refused"),
    ("https://example.com:0/cb", False, "port must be", "port zero is refused"),
    ("http://127.0.0.1:0/cb", False, "port must be", "port zero on loopback is refused"),
    (
        "http://127.0.0.1:65536/cb",
        False,
        "not a valid URI",
        "a loopback port past 65535 is refused",
    ),
    (
        "http://127.0.0.1:\u0661\u0662/cb",
        False,
        "Percent-encode",
        "a loopback port in Arabic-Indic digits is refused",
    ),
    ("http://127.0.0.1:\uff11\uff12/cb", True, "Percent-encode", "a fullwidth port is refused"),
    ("https://exa mple.com/cb", False, "spaces", "a space inside is refused"),
    ("https://exämple.com/cb", False, "Percent-encode", "non-ASCII characters are refused"),
    ("https://example.com/" + "a" * 2000, False, "at most 2000", "an overlong URI is refused"),
]


@pytest.mark.parametrize(("uri", "public"), [(u, p) for u, p, _ in GOOD], ids=[i for *_, i in GOOD])
def test_registrable(uri: str, public: bool) -> None:
    assert problem(uri, public=public) is None


@pytest.mark.parametrize(
    ("uri", "public", "says"), [(u, p, s) for u, p, s, _ in BAD], ids=[i for *_, i in BAD]
)
def test_refused_with_a_clear_message(uri: str, public: bool, says: str) -> None:
    message = problem(uri, public=public)
    assert message is not None and says in message


def test_each_bad_line_gets_its_own_message_with_its_line_number() -> None:
    text = "https://ok.example/cb\n\nhttp://example.com/cb\n  https://x.example/#a  \nhttps://ok.example/cb\n"
    found = problems(text, public=False)
    assert [(p.line, p.uri) for p in found] == [
        (3, "http://example.com/cb"),
        (4, "https://x.example/#a"),
        (5, "https://ok.example/cb"),
    ]
    assert "already on line 1" in found[2].message
    assert str(found[0]).startswith("Line 3 (http://example.com/cb): ")


def test_at_least_one_and_at_most_ten() -> None:
    assert problems("  \n\n", public=False)[0].message == "Enter at least one redirect URI."
    # An empty field has no line to name: never "Line 1 ()".
    assert str(problems("", public=False)[0]) == "Enter at least one redirect URI."
    many = "\n".join(f"https://example.com/{n}" for n in range(11))
    assert [p.line for p in problems(many, public=False)] == [11]
    assert problems(many.rsplit("\n", 1)[0], public=False) == []


REGISTERED = (
    "https://example.com/cb",
    "http://127.0.0.1/native",
    "http://localhost:8000/dev",
    "http://[::1]/v6",
)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("https://example.com/cb", True),
        ("https://example.com/cb/", False),
        ("https://EXAMPLE.com/cb", False),
        ("https://example.com/cb?x=1", False),
        ("https://example.com:443/cb", False),
        ("https://example.com:8443/cb", False),
        ("http://127.0.0.1/native", True),
        ("http://127.0.0.1:51234/native", True),
        ("http://127.0.0.1:51234/other", False),
        ("http://127.0.0.1:51234/native?x=1", False),
        ("http://localhost/dev", True),
        ("http://localhost:9/dev", True),
        ("http://127.0.0.1:8000/dev", False),
        ("http://[::1]:4242/v6", True),
        ("http://[::1]:/v6", False),
        ("http://127.0.0.1:80x/native", False),
        ("http://user@127.0.0.1:1/native", False),
        ("http://127.0.0.1:\u0661\u0662/native", False),
        ("http://127.0.0.1:\uff11\uff12/native", False),
        ("http://127.0.0.1:\u00b2/native", False),
        ("http://127.0.0.1:0/native", False),
        ("http://127.0.0.1:65536/native", False),
        ("http://127.0.0.1:65535/native", True),
        ("http://127.0.0.1:00080/native", True),
        ("https://127.0.0.1:51234/native", False),
    ],
    ids=[
        "the registered URI exactly",
        "a trailing slash more",
        "another case of the host",
        "an extra query",
        "the default port written out",
        "another port over https",
        "a loopback URI exactly",
        "a loopback URI on another port",
        "a loopback URI on another port and path",
        "a loopback URI with an extra query",
        "localhost registered with a port, requested without",
        "localhost on yet another port",
        "the same port on another loopback name",
        "the IPv6 loopback on another port",
        "an empty port",
        "a port that is not a number",
        "userinfo on a loopback URI",
        "a port in Arabic-Indic digits",
        "a port in fullwidth digits",
        "a port in superscript digits",
        "port zero",
        "a port past 65535",
        "the highest port",
        "a port with leading zeros",
        "https on loopback gets no port exception",
    ],
)
def test_matches_exactly_except_loopback_ports(requested: str, expected: bool) -> None:
    assert matches(REGISTERED, requested) is expected
