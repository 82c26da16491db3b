"""Every cookie paced sets goes through `Cookies`, one per app, so that each has the
same name and flags wherever it is set, read or deleted.

On https each name takes the `__Host-` prefix, which a browser accepts only with Secure,
Path=/ and no Domain: no sibling subdomain and no plain-http answer can plant or
overwrite it (RFC 6265bis §4.1.3.2). On http (development) names stay plain.

    state.cookies.set(response, "paced_device", value, max_age=365 * 24 * 3600)
    value = state.cookies.get(request, "paced_device")
    state.cookies.delete(response, "paced_device")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response

SameSite = Literal["lax", "strict"]
HOST_PREFIX = "__Host-"


@dataclass(frozen=True, slots=True)
class Cookies:
    secure: bool  # the base URL is https

    @classmethod
    def for_base_url(cls, base_url: str) -> Cookies:
        return cls(secure=base_url.startswith("https://"))  # lower case (paced.settings)

    def name(self, name: str) -> str:
        """The name the browser keeps `name` under."""
        return HOST_PREFIX + name if self.secure else name

    def get(self, request: HTTPConnection, name: str) -> str | None:
        return request.cookies.get(self.name(name)) or None

    def set(
        self,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        httponly: bool = True,
        samesite: SameSite = "lax",
    ) -> None:
        """Set `name`; without `max_age` it lasts as long as the browser session."""
        response.set_cookie(
            self.name(name),
            value,
            max_age=max_age,
            path="/",
            httponly=httponly,
            samesite=samesite,
            secure=self.secure,
        )

    def delete(
        self,
        response: Response,
        name: str,
        *,
        httponly: bool = True,
        samesite: SameSite = "lax",
    ) -> None:
        response.delete_cookie(
            self.name(name), path="/", httponly=httponly, samesite=samesite, secure=self.secure
        )
