"""The token endpoint (RFC 6749 §3.2): read the form, then hand it to its grant.

The form rules here are shared with the revocation and introspection endpoints: an
`application/x-www-form-urlencoded` body, each parameter at most once, an empty value
the same as an absent one. A repeated `resource` asks for tokens for several resources
(RFC 8707 §2), which paced cannot give: `invalid_target`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qs

from paced.core import authorization_codes, client_auth, device_grant, refresh_rotation
from paced.core.authorization_codes import CodeExchange, CodeExchangeStore
from paced.core.device_grant import DeviceGrantStore
from paced.core.errors import InvalidRequest, InvalidTarget, PacedError, UnsupportedGrantType
from paced.core.policy import Policy
from paced.core.refresh_rotation import RefreshRequest, RefreshStore
from paced.core.resource import ONE_RESOURCE
from paced.core.security_log import Origin
from paced.core.token_issuance import IssuedTokens

FORM = "application/x-www-form-urlencoded"
# More than any grant needs; a body beyond it is not a token request.
MAX_FIELDS = 20
MAX_BODY = 16_384
# Longer than any value a client sends (a redirect URI is at most 2000 characters).
MAX_VALUE = 2048
# What the token, revocation and introspection endpoints read; RFC 6749 §3.2: the server
# ignores any other parameter, repeated or not.
PARAMETERS = frozenset(
    {
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "token",
        "token_type_hint",
        "device_code",
        "resource",
    }
)

Form = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class FormRequest:
    """A POST to the token, revocation or introspection endpoint, as the edge read it."""

    content_type: str | None
    body: bytes
    authorization: str | None = None
    query: Form = field(default_factory=dict)
    # Who sent it, for the security log.
    origin: Origin = field(default_factory=Origin)


class TokenEndpointStore(CodeExchangeStore, RefreshStore, DeviceGrantStore, Protocol):
    pass


def parse_form(content_type: str | None, body: bytes) -> dict[str, list[str]]:
    """Every parameter of the body with all its values; broken rules are InvalidRequest."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    # RFC 6749 §4.1.3 / §6: parameters come form-encoded in the body.
    if media_type != FORM:
        raise InvalidRequest(f"Send the parameters as {FORM}.")
    # A bound on what we parse; no grant comes near it.
    if len(body) > MAX_BODY:
        raise InvalidRequest("The request body is too large.")
    try:
        params = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("The request body is not a valid form.") from None
    for name in sorted(PARAMETERS.intersection(params)):
        # RFC 8707 §2: `resource` may repeat to name several resources; paced has one.
        if name == "resource" and len(params[name]) > 1:
            raise InvalidTarget(ONE_RESOURCE)
        # RFC 6749 §3.2: parameters must not be included more than once.
        if len(params[name]) > 1:
            raise InvalidRequest(f"The {name} parameter is repeated.")
        if len(params[name][0]) > MAX_VALUE:
            raise InvalidRequest(f"The {name} parameter is too long.")
    return params


def claimed_client_id(request: FormRequest) -> str | None:
    """The client id the request claims, by the same rules as the endpoints read it;
    None when it names none or cannot be read. For the edge's rate limits, which must
    know the client before it is authenticated."""
    try:
        params = parse_form(request.content_type, request.body)
        credentials = client_auth.read_credentials(request.authorization, params, request.query)
    except PacedError:
        return None
    return credentials.client_id


def value(params: Form, name: str) -> str | None:
    """The parameter's value; RFC 6749 §3.1: one sent without a value is omitted."""
    values = params.get(name)
    return values[0] if values and values[0] else None


async def token(
    store: TokenEndpointStore, request: FormRequest, now: datetime, policy: Policy
) -> IssuedTokens:
    params = parse_form(request.content_type, request.body)
    # RFC 6749 §2.3: one authentication method, none of it in the query string.
    credentials = client_auth.read_credentials(request.authorization, params, request.query)
    grant_type = value(params, "grant_type")
    # RFC 6749 §4.1.3 / §6: grant_type is required.
    if grant_type is None:
        raise InvalidRequest("The grant_type parameter is missing.")
    if grant_type == "authorization_code":
        exchange = CodeExchange(
            code=value(params, "code"),
            redirect_uri=value(params, "redirect_uri"),
            code_verifier=value(params, "code_verifier"),
            resource=value(params, "resource"),
        )
        return await authorization_codes.exchange(
            store, credentials, exchange, now, policy, origin=request.origin
        )
    if grant_type == "refresh_token":
        refresh = RefreshRequest(
            refresh_token=value(params, "refresh_token"),
            scope=value(params, "scope"),
            resource=value(params, "resource"),
        )
        return await refresh_rotation.refresh(
            store, credentials, refresh, now, policy, origin=request.origin
        )
    if grant_type == device_grant.GRANT_TYPE:
        return await device_grant.redeem(
            store,
            credentials,
            value(params, "device_code"),
            now,
            policy,
            resource=value(params, "resource"),
        )
    # RFC 6749 §5.2: only the grants paced issues (docs/oauth.md).
    raise UnsupportedGrantType(
        f"Use grant_type authorization_code, refresh_token or {device_grant.GRANT_TYPE}.",
        debug=f"grant_type {grant_type[:40]!r}",
    )
