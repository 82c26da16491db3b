"""Outbound HTTP: fetching client ID metadata documents (`paced.core.client_metadata_document`)
without letting a client point paced at its own network.

A client names a URL and paced fetches it, so every fetch is a request an attacker chose
(server-side request forgery). What holds:

- **Addresses**: the host is resolved here, every address it resolves to is checked
  (no loopback, private, link-local, shared, reserved or multicast address, IPv4 inside
  IPv6 included) unless PACED_OUTBOUND_ALLOW_PRIVATE is set, and the connection goes to
  the checked address itself, so a second DNS answer (rebinding) cannot switch it. TLS
  still verifies the certificate for the host name.
- **Time**: the whole fetch, connection and body, ends after 5 seconds.
- **Size**: the body is read as it arrives and refused past 5 KiB; no compression is
  accepted, so the bytes counted are the bytes kept.
- **Redirects** are not followed: anything but 200 is refused.
- **TLS** trusts the system's authorities, or SSL_CERT_FILE when it is set.
- **Cache**: a document is kept as long as its Cache-Control max-age says, at most a day;
  `no-store` or `no-cache` keeps it not at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore

from paced.core.client_metadata_document import (
    MAX_BYTES,
    MAX_CACHE_SECONDS,
    TIMEOUT_SECONDS,
    DocumentUnavailable,
)

Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_CACHED = 1000
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, for a TCP connection."""
    found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


def is_public(address: str) -> bool:
    """Whether an address is on the public Internet, by IANA's special-purpose registries
    as Python knows them; an IPv4 address inside IPv6 is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


class Refused(httpcore.ConnectError):
    """A connection paced will not make: the address is not public."""


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving the host itself and connecting only to an
    address it checked (the one it connects to is the one it checked)."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = resolve) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolve = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}") from error
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        if not self._allow_private:
            for address in addresses:
                if not is_public(address):
                    raise Refused(f"{host} resolves to a non-public address")
        return await self._inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ssl_context() -> ssl.SSLContext:
    """The system's authorities, or those of SSL_CERT_FILE when it is set."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    return ssl.create_default_context(cafile=cafile)


def max_age(cache_control: str | None) -> int:
    """Seconds a response may be kept (RFC 9111 §5.2.2), capped at a day; 0: not at all."""
    if not cache_control:
        return 0
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0
    match = _MAX_AGE.search(cache_control)
    return min(int(match.group(1)), MAX_CACHE_SECONDS) if match else 0


# What a fetch can fail with, short of a timeout: httpcore's errors name no common base.
_FAILED = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
)
_HEADERS = [(b"Accept", b"application/json"), (b"Accept-Encoding", b"identity")]


class DocumentFetcher:
    """`paced.core.client_metadata_document.DocumentFetcher` over httpcore's connection
    pool, whose network backend is `CheckedBackend`; one per app. No proxy from the
    environment is used: the address is checked here."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context(),
            max_connections=20,
            http1=True,
            http2=False,
            retries=0,
            network_backend=CheckedBackend(allow_private=allow_private, resolver=resolver),
        )
        self._clock = clock
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def fetch(self, url: str) -> bytes:
        cached = self._cache.get(url)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        try:
            async with asyncio.timeout(self._timeout):
                body, keep = await self._get(url)
        except TimeoutError:
            raise DocumentUnavailable("it did not arrive within 5 seconds") from None
        except Refused:
            raise DocumentUnavailable("its host is not on the public Internet") from None
        except _FAILED:
            raise DocumentUnavailable("it could not be fetched") from None
        self._cache.pop(url, None)
        if keep:
            self._cache[url] = (self._clock() + keep, body)
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return body

    async def _get(self, url: str) -> tuple[bytes, int]:
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self._timeout)
        async with self._pool.stream(
            "GET", url, headers=_HEADERS, extensions={"timeout": timeouts}
        ) as response:
            if response.status != 200:
                # A redirect is not followed: the document must be at the URL itself.
                raise DocumentUnavailable(f"it answered HTTP {response.status}")
            headers = _last_values(response.headers)
            if headers.get("content-encoding", "identity").lower() != "identity":
                raise DocumentUnavailable("it was sent compressed")
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise DocumentUnavailable(f"it is larger than {self._max_bytes} bytes")
            body = bytearray()
            async for chunk in response.aiter_stream():
                body += chunk
                if len(body) > self._max_bytes:
                    raise DocumentUnavailable(f"it is larger than {self._max_bytes} bytes")
            return bytes(body), max_age(headers.get("cache-control"))


def _last_values(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-case name; of a repeated header, the last value."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
