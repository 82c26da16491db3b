"""`paced.outbound`: metadata documents fetched over real TLS from a throwaway authority,
and every way a client could turn the fetch against paced refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from paced.core.client_metadata_document import DocumentUnavailable
from paced.outbound import DocumentFetcher, is_public, max_age
from tests.tls_server import Authority, Reply, Site, authority, https_site

DOCUMENT = json.dumps({"client_id": "x", "redirect_uris": ["http://127.0.0.1:1/cb"]}).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Authority:
    made = authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(made.cafile))
    return made


@pytest.fixture
def site(ca: Authority) -> Iterator[Site]:
    with https_site(ca) as served:
        yield served


def fetcher(**options: object) -> DocumentFetcher:
    return DocumentFetcher(**{"allow_private": True, **options})  # type: ignore[arg-type]


async def fetch(site: Site, path: str, reply: Reply, **options: object) -> bytes:
    site.routes[path] = reply
    documents = fetcher(**options)
    try:
        return await documents.fetch(site.base + path)
    finally:
        await documents.aclose()


async def test_a_document_is_fetched_over_tls_trusting_ssl_cert_file(site: Site) -> None:
    assert await fetch(site, "/client.json", Reply(body=DOCUMENT)) == DOCUMENT


async def test_without_the_authority_the_certificate_is_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(DocumentUnavailable, match="could not be fetched"):
        await fetch(site, "/client.json", Reply(body=DOCUMENT))


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(body=b"x" * 5121), "larger than 5120 bytes"),
        (Reply(body=b"x" * 6000, drip=0), "larger than 5120 bytes"),
        (Reply(status=302, headers={"Location": "https://127.0.0.1:1/x"}), "HTTP 302"),
        (Reply(status=404), "HTTP 404"),
        (Reply(body=DOCUMENT, headers={"Content-Encoding": "gzip"}), "compressed"),
    ],
    ids=[
        "a body over 5 KiB with its length declared",
        "a body over 5 KiB without a declared length",
        "a redirect, never followed",
        "not found",
        "a compressed body",
    ],
)
async def test_what_cannot_be_a_document_is_refused(site: Site, reply: Reply, why: str) -> None:
    with pytest.raises(DocumentUnavailable, match=why):
        await fetch(site, "/client.json", reply)


async def test_exactly_5_kib_is_read(site: Site) -> None:
    assert len(await fetch(site, "/client.json", Reply(body=b"x" * 5120))) == 5120


async def test_a_server_that_drips_its_body_cannot_hold_the_fetch(site: Site) -> None:
    # One byte every 0.2 s: each read is quick, the whole would take minutes.
    with pytest.raises(DocumentUnavailable, match="did not arrive within"):
        await fetch(site, "/slow.json", Reply(body=b"x" * 1000, drip=0.2), timeout=1.0)


async def test_a_private_or_loopback_address_is_refused_unless_allowed(site: Site) -> None:
    with pytest.raises(DocumentUnavailable, match="not on the public Internet"):
        await fetch(site, "/client.json", Reply(body=DOCUMENT), allow_private=False)
    assert site.hits == []  # not even connected


async def test_a_name_that_resolves_to_any_private_address_is_refused(site: Site) -> None:
    async def two_answers(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    url = site.base.replace("127.0.0.1", "docs.test") + "/client.json"
    documents = fetcher(allow_private=False, resolver=two_answers)
    try:
        with pytest.raises(DocumentUnavailable, match="not on the public Internet"):
            await documents.fetch(url)
    finally:
        await documents.aclose()
    assert site.hits == []


async def test_the_connection_goes_to_the_address_that_was_checked(site: Site) -> None:
    """`docs.test` resolves nowhere but through the resolver the fetcher checked: the
    document arriving proves the connection went to that answer, not to a second lookup
    (DNS rebinding), and that TLS still verified the certificate for the host name."""
    asked: list[str] = []

    async def pinned(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    site.routes["/client.json"] = Reply(body=DOCUMENT)
    url = site.base.replace("127.0.0.1", "docs.test") + "/client.json"
    documents = fetcher(resolver=pinned)
    try:
        assert await documents.fetch(url) == DOCUMENT
    finally:
        await documents.aclose()
    assert asked == ["docs.test"]


async def test_the_cache_keeps_a_document_as_long_as_it_says_and_at_most_a_day(
    site: Site,
) -> None:
    clock = Clock()
    site.routes["/cached.json"] = Reply(body=DOCUMENT, headers={"Cache-Control": "max-age=60"})
    site.routes["/long.json"] = Reply(body=DOCUMENT, headers={"Cache-Control": "max-age=999999"})
    site.routes["/fresh.json"] = Reply(body=DOCUMENT, headers={"Cache-Control": "no-store"})
    documents = fetcher(clock=clock)
    try:
        for path in ("/cached.json", "/long.json", "/fresh.json"):
            await documents.fetch(site.base + path)
            await documents.fetch(site.base + path)
        assert site.hits == ["/cached.json", "/long.json", "/fresh.json", "/fresh.json"]
        clock.now += 61
        await documents.fetch(site.base + "/cached.json")
        await documents.fetch(site.base + "/long.json")
        clock.now += 24 * 3600
        await documents.fetch(site.base + "/long.json")
    finally:
        await documents.aclose()
    assert site.hits[4:] == ["/cached.json", "/long.json"]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 0),
        ("max-age=300", 300),
        ("public, max-age=300", 300),
        ("max-age=999999", 86400),
        ("no-store, max-age=300", 0),
        ("no-cache", 0),
        ("s-maxage=300", 0),
    ],
    ids=[
        "none",
        "max-age",
        "among others",
        "capped at a day",
        "no-store",
        "no-cache",
        "s-maxage only",
    ],
)
def test_max_age_reads_cache_control(header: str | None, seconds: int) -> None:
    assert max_age(header) == seconds


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address judged, not bound)
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
    ],
    ids=lambda value: str(value),
)
def test_only_public_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public
