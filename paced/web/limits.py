"""Input limits at the edge, before any route reads a byte (docs/operations.md).

- The request body: at most `PACED_MAX_BODY_BYTES` (64 KiB). A request that declares more
  in `Content-Length` is refused before its body is read; one that sends more without
  saying so (chunked) is refused as soon as the route reads past the cap. Either way 413,
  in the error shape of its endpoint (`paced.web.errors.body_too_large`). `Edge` counts
  it (`paced.web.edge`); a GET, HEAD or OPTIONS request passes untouched.
- The request head (request line and headers): at most `PACED_MAX_HEADER_BYTES`. uvicorn's
  h11 protocol has this bound (`h11_max_incomplete_event_size`); httptools, which uvicorn
  prefers when it is installed, has none, so `HttpProtocol` adds it: beyond the cap, 431
  and the connection is closed, without the application ever seeing the request.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope


class BodyTooLarge(Exception):
    """A request body beyond the cap, found while a route reads it (`paced.web.edge`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


# --- the request head, for `paced serve` ----------------------------------------------------

HEAD_TOO_LARGE = b"Request header fields too large.\n"

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover (uvicorn[standard] brings httptools)
    from uvicorn.protocols.http.h11_impl import H11Protocol as HttpProtocol
else:

    class HeadTooLarge(Exception):
        pass

    class HttpProtocol(HttpToolsProtocol):  # type: ignore[no-redef]
        """uvicorn's httptools protocol, with a bound on each request's head.

        The bound is uvicorn's `h11_max_incomplete_event_size`, the setting its h11 protocol
        applies to the same thing. A head still incomplete past the bound is refused as it
        arrives, so that a client can make us hold at most the bound plus one socket read;
        a complete one is measured before the application sees it.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.max_head: int = self.config.h11_max_incomplete_event_size or 16 * 1024
            # Bytes received while the current head is incomplete; None while in a body.
            self.head_bytes: int | None = 0
            self.head_too_large = False

        def on_headers_complete(self) -> None:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > self.max_head:
                self.head_too_large = True
                raise HeadTooLarge  # httptools stops; uvicorn calls send_400_response
            self.head_bytes = None
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self.head_bytes = 0

        def data_received(self, data: bytes) -> None:
            if self.head_bytes is not None:
                self.head_bytes += len(data)
            super().data_received(data)
            if self.head_bytes is not None and self.head_bytes > self.max_head:
                self.logger.warning("Request head over %d bytes: answered 431.", self.max_head)
                self.head_too_large = True
                self.send_400_response("")

        def send_400_response(self, msg: str) -> None:
            if not self.head_too_large:
                super().send_400_response(msg)
                return
            self.head_bytes = None
            if self.transport.is_closing():
                return
            # Unless a response to an earlier request on this connection is being written.
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-type: text/plain; charset=utf-8\r\n"
                    b"content-length: %d\r\n"
                    b"connection: close\r\n\r\n%s" % (len(HEAD_TOO_LARGE), HEAD_TOO_LARGE)
                )
            self.transport.close()
