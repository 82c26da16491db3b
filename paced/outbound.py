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
import httpx

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


def _refused(error: BaseException) -> bool:
    """Whether httpx's error stands for our `Refused` (httpx wraps httpcore's errors)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, Refused):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def ssl_context() -> ssl.SSLContext:
    """The system's authorities, or those of SSL_CERT_FILE when it is set."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    return ssl.create_default_context(cafile=cafile)


class _Transport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that uses `CheckedBackend`."""

    def __init__(self, context: ssl.SSLContext, backend: CheckedBackend) -> None:
        super().__init__(verify=context, retries=0)
        # httpx builds its pool without a way to pass the network backend: replace it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=20,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )


def max_age(cache_control: str | None) -> int:
    """Seconds a response may be kept (RFC 9111 §5.2.2), capped at a day; 0: not at all."""
    if not cache_control:
        return 0
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0
    match = _MAX_AGE.search(cache_control)
    return min(int(match.group(1)), MAX_CACHE_SECONDS) if match else 0


class DocumentFetcher:
    """`paced.core.client_metadata_document.DocumentFetcher` over httpx; one per app."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        context = ssl_context()
        transport = _Transport(
            context, CheckedBackend(allow_private=allow_private, resolver=resolver)
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            trust_env=False,  # no proxy from the environment: the address is checked here
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
        )
        self._clock = clock
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str) -> bytes:
        cached = self._cache.get(url)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        try:
            async with asyncio.timeout(self._timeout):
                body, keep = await self._get(url)
        except TimeoutError:
            raise DocumentUnavailable("it did not arrive within 5 seconds") from None
        except httpx.HTTPError as error:
            if _refused(error):
                raise DocumentUnavailable("its host is not on the public Internet") from None
            raise DocumentUnavailable("it could not be fetched") from None
        self._cache.pop(url, None)
        if keep:
            self._cache[url] = (self._clock() + keep, body)
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return body

    async def _get(self, url: str) -> tuple[bytes, int]:
        async with self._client.stream("GET", url) as response:
            if response.status_code != 200:
                # A redirect is not followed: the document must be at the URL itself.
                raise DocumentUnavailable(f"it answered HTTP {response.status_code}")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise DocumentUnavailable("it was sent compressed")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise DocumentUnavailable(f"it is larger than {self._max_bytes} bytes")
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > self._max_bytes:
                    raise DocumentUnavailable(f"it is larger than {self._max_bytes} bytes")
            return bytes(body), max_age(response.headers.get("cache-control"))
