"""Dynamic client registration (RFC 7591): a client registers itself at `/oauth/register`.

The checks, in the order they run, each with its error (RFC 7591 §3.2.2):

    1. the body is one JSON object                              -> invalid_client_metadata
    2. token_endpoint_auth_method: none, client_secret_basic
       (the default) or client_secret_post                       -> invalid_client_metadata
    3. grant_types: authorization_code and/or the device grant
       (RFC 8628), with refresh_token or not (the default:
       authorization_code and refresh_token)                     -> invalid_client_metadata
    4. response_types: code with authorization_code, else none   -> invalid_client_metadata
    5. redirect_uris: one to ten, each one that Developer settings
       would register (docs/oauth.md); none needed by a client
       of the device grant alone, which receives no redirect     -> invalid_redirect_uri
    6. client_name, client_uri, logo_uri, scope: well-formed      -> invalid_client_metadata

Unknown fields are ignored (RFC 7591 §2). Such a client has no owner and has not been
reviewed by anyone: the consent screen says so and is never skipped for it
(`paced.core.consent`), and `paced purge` deletes it if it got no grant within a day
(`Policy.unclaimed_client_ttl`). The answer echoes what was registered, and only that
(RFC 7591 §3.2.1): a requested `scope` or `logo_uri` is checked but not kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from paced.core import apps, redirect_uris, scopes, security_log
from paced.core.errors import InvalidClientMetadata, InvalidRedirectUri, OAuthError, shown
from paced.core.ids import new_id, random_base62
from paced.core.records import App
from paced.core.security_log import Origin
from paced.core.store import AppStore, SecurityLog

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# The device grant's type (RFC 8628 §3.4); a client that names it may use the device flow.
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ("authorization_code", "refresh_token", DEVICE_CODE)
DEFAULT_GRANT_TYPES = ["authorization_code", "refresh_token"]
MAX_FIELD = 2000


class RegistrationStore(AppStore, SecurityLog, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Registration:
    app: App
    client_secret: str | None  # shown once, in this answer; None for a public client
    grant_types: tuple[str, ...]
    auth_method: str

    def body(self) -> dict[str, object]:
        """RFC 7591 §3.2.1: the client information and the metadata registered."""
        body: dict[str, object] = {"client_id": self.app.client_id}
        if self.client_secret is not None:
            body["client_secret"] = self.client_secret
        body.update(
            {
                "client_id_issued_at": int(self.app.created_at.timestamp()),
                # RFC 7591 §3.2.1: 0, the secret does not expire.
                "client_secret_expires_at": 0,
                "client_name": self.app.name,
                "redirect_uris": list(self.app.redirect_uris),
                "grant_types": list(self.grant_types),
                "response_types": (["code"] if "authorization_code" in self.grant_types else []),
                "token_endpoint_auth_method": self.auth_method,
            }
        )
        if self.app.homepage_url:
            body["client_uri"] = self.app.homepage_url
        return body


def parse(content_type: str | None, body: bytes) -> Mapping[str, object]:
    """The registration request's JSON object (RFC 7591 §3.1)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise InvalidClientMetadata("Send the client metadata as application/json.")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidClientMetadata("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidClientMetadata("The body must be one JSON object of client metadata.")
    return document


def _string(metadata: Mapping[str, object], name: str) -> str | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InvalidClientMetadata(f"{name} must be a string of at most {MAX_FIELD} characters.")
    return value


def _strings(
    metadata: Mapping[str, object], name: str, error: type[OAuthError]
) -> list[str] | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise error(f"{name} must be an array of strings.")
    return list(value)


def checked_redirect_uris(uris: list[str] | None, *, public: bool) -> tuple[str, ...]:
    """RFC 7591 §2: the redirect URIs, by the rules Developer settings applies."""
    if not uris:
        raise InvalidRedirectUri("Register at least one redirect URI (redirect_uris).")
    if len(uris) > redirect_uris.MAX_URIS:
        raise InvalidRedirectUri(f"Register at most {redirect_uris.MAX_URIS} redirect URIs.")
    for uri in uris:
        problem = redirect_uris.problem(uri, public=public)
        if problem is not None:
            raise InvalidRedirectUri(f"{shown(uri, 80)}: {problem}")
    return tuple(dict.fromkeys(uris))


def _url(metadata: Mapping[str, object], name: str) -> str:
    value = (_string(metadata, name) or "").strip()
    if value and apps.check_homepage(value) is not None:
        raise InvalidClientMetadata(f"{name} must be an http or https address.")
    return value


def _name(metadata: Mapping[str, object], uris: tuple[str, ...]) -> str:
    name = " ".join((_string(metadata, "client_name") or "").split())
    if not name:
        # Someone must be named on the consent screen: the host the codes go to, or for a
        # client of the device grant alone, which has none, what it is.
        parts = urlsplit(uris[0]) if uris else None
        name = (parts.hostname or parts.scheme)[: apps.MAX_NAME] if parts else "A device"
    if (problem := apps.check_name(name)) is not None:
        raise InvalidClientMetadata(f"client_name: {problem}")
    return name


async def register(
    store: RegistrationStore,
    metadata: Mapping[str, object],
    now: datetime,
    *,
    origin: Origin,
) -> Registration:
    """The checks of the module docstring, in that order, then the new client."""
    method = _string(metadata, "token_endpoint_auth_method") or "client_secret_basic"
    # RFC 7591 §2: the methods of the token endpoint (RFC 8414 metadata lists them).
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post."
        )
    public = method == "none"
    grant_types = _strings(metadata, "grant_types", InvalidClientMetadata)
    grant_types = DEFAULT_GRANT_TYPES if grant_types is None else grant_types
    # RFC 7591 §2.1: the grants the client will use; it starts from an authorization
    # code, or from a device code (RFC 8628), or both.
    code_flow = "authorization_code" in grant_types
    device_flow = DEVICE_CODE in grant_types
    if not (code_flow or device_flow) or not set(grant_types) <= set(GRANT_TYPES):
        raise InvalidClientMetadata(
            "grant_types may hold authorization_code, refresh_token and "
            f"{DEVICE_CODE} only, and must hold authorization_code or {DEVICE_CODE}."
        )
    response_types = _strings(metadata, "response_types", InvalidClientMetadata)
    # RFC 7591 §2.1: response_type code goes with the authorization_code grant, and with
    # nothing else.
    expected = {"code"} if code_flow else set()
    if response_types is not None and set(response_types) != expected:
        raise InvalidClientMetadata(
            "response_types may hold code only, with the authorization_code grant."
        )
    requested_uris = _strings(metadata, "redirect_uris", InvalidRedirectUri)
    uris = (
        checked_redirect_uris(requested_uris, public=public) if code_flow or requested_uris else ()
    )
    name = _name(metadata, uris)
    client_uri = _url(metadata, "client_uri")
    _url(metadata, "logo_uri")
    try:
        scopes.parse(_string(metadata, "scope"))
    except OAuthError as error:
        raise InvalidClientMetadata(f"scope: {error.description}") from None

    app = App(
        id=new_id("app"),
        owner_id=None,
        name=name,
        description="",
        homepage_url=client_uri,
        client_id=random_base62(apps.CLIENT_ID_LENGTH),
        redirect_uris=uris,
        public=public,
        created_at=now,
        updated_at=now,
        registration="dynamic",
        device_flow=device_flow,
    )
    await store.add_app(app)
    secret = None if public else (await apps.add_secret(store, app, now)).value
    await security_log.record(
        store,
        "client_registered",
        now,
        origin,
        user_id=None,
        actor=app.client_id,
        detail=security_log.app_detail(app, redirect_uris=list(uris)),
    )
    return Registration(
        app=app,
        client_secret=secret,
        grant_types=tuple(dict.fromkeys(grant_types)),
        auth_method=method,
    )
