"""The authorization request (RFC 6749 §4.1.1), validated in the order that decides where
an error may go.

    1. client_id: present once, of a registered app, or the URL of the
       client's metadata document, fetched and checked by the caller
       (`paced.core.client_metadata_document`)                           -> error page
    2. redirect_uri: present once and registered, or omitted when the
       app has exactly one (exact match; loopback port aside, RFC 8252,
       except for a metadata document's client: exact)                   -> error page
    3. no other parameter repeated or over 2048 characters              -> invalid_request
       (a repeated `resource` names several resources)                  -> invalid_target
    4. response_type=code                      -> invalid_request / unsupported_response_type
    5. scope: known scopes; none means `read`                            -> invalid_scope
    6. PKCE: S256 only; required of public clients                       -> invalid_request
    7. resource: absent, or the API, named once (RFC 8707)               -> invalid_target

Until the client and its redirect URI are trusted, an error is shown to the user and never
redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11.2): `UntrustedRedirect`. Afterwards every
error goes back to the client at its redirect URI, with `state` and `iss` (RFC 9207):
`AuthorizationErrorResponse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from paced.core import pkce, scopes
from paced.core import resource as resources
from paced.core.errors import (
    InvalidRequest,
    InvalidTarget,
    OAuthError,
    PacedError,
    UnsupportedResponseType,
)
from paced.core.records import App
from paced.core.redirect_uris import matches
from paced.core.store import AppLookup
from paced.core.text import has_controls

Params = Mapping[str, Sequence[str]]

# Every parameter this endpoint reads; others are ignored (RFC 6749 §3.1).
PARAMETERS: tuple[str, ...] = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "resource",
)
MAX_CLIENT_ID = 128
# Longer than any value a client sends (a redirect URI is at most 2000 characters); a
# longer one is refused rather than carried through the consent form and the redirect.
MAX_VALUE = 2048


class UntrustedRedirect(InvalidRequest):
    """The client or its redirect URI cannot be trusted: the user sees an error page
    (status 400) and is not redirected (RFC 6749 §4.1.2.1, first paragraph)."""


class AuthorizationErrorResponse(PacedError):
    """An error sent back to the client: `redirect_uri?error=…&error_description=…&state=…`
    plus `iss` (RFC 6749 §4.1.2.1, RFC 9207 §2)."""

    status = 303

    def __init__(self, cause: OAuthError, *, redirect_uri: str, state: str | None) -> None:
        super().__init__(cause.description, debug=cause.debug)
        self.error = cause.error
        self.cause = cause
        self.redirect_uri = redirect_uri
        self.state = state

    def response_parameters(self, issuer: str) -> list[tuple[str, str]]:
        pairs = [("error", self.error)]
        if self.description:
            pairs.append(("error_description", self.description))
        if self.state is not None:
            pairs.append(("state", self.state))
        pairs.append(("iss", issuer))
        return pairs


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A request that passed every check."""

    app: App
    # Where the answer goes: the URI as sent, or the app's only one when none was sent.
    redirect_uri: str
    # The `redirect_uri` parameter as sent, "" when omitted: the token request must then
    # repeat exactly this value (RFC 6749 §4.1.3).
    requested_redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    prompt: str | None
    # The recognised parameters as received, each once: the consent form carries them.
    parameters: tuple[tuple[str, str], ...]
    # RFC 8707: the resource the tokens will be bound to, None when none was named.
    resource: str | None = None

    @property
    def force_consent(self) -> bool:
        return self.prompt is not None and "consent" in self.prompt.split()

    def redirect_to_client(self, error: OAuthError) -> AuthorizationErrorResponse:
        return AuthorizationErrorResponse(error, redirect_uri=self.redirect_uri, state=self.state)


def grouped(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """name -> every value sent, in order, so that repeats stay visible."""
    params: dict[str, list[str]] = {}
    for name, value in items:
        params.setdefault(name, []).append(value)
    return params


def _values(params: Params, name: str) -> list[str]:
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    return [value for value in params.get(name, ()) if value != ""]


def _once(params: Params, name: str) -> str | None:
    values = _values(params, name)
    return values[0] if values else None


def _repeated(params: Params, name: str) -> bool:
    return len(_values(params, name)) > 1


def document_client_id(params: Params) -> str | None:
    """The client_id when the request names exactly one and it is an https URL: the
    client's metadata document, which the caller fetches before `validate`."""
    values = _values(params, "client_id")
    if len(values) == 1 and values[0].startswith("https://"):
        return values[0]
    return None


async def validate(
    store: AppLookup, params: Params, *, issuer: str, document: App | None = None
) -> AuthorizationRequest:
    """The checks of the module docstring, in that order. `issuer` names the API as a
    resource (RFC 8707); `document` is the client described by the metadata document that
    the client_id names, when the caller fetched one."""
    # RFC 6749 §3.1: a repeated client_id or redirect_uri leaves nothing to trust.
    if _repeated(params, "client_id"):
        raise UntrustedRedirect("The request names its client (client_id) more than once.")
    if _repeated(params, "redirect_uri"):
        raise UntrustedRedirect("The request names its redirect URI more than once.")
    client_id = _once(params, "client_id")
    # RFC 6749 §4.1.2.1: missing or invalid client identifier: do not redirect.
    if client_id is None:
        raise UntrustedRedirect("The request does not say which application it is for.")
    plausible = len(client_id) <= MAX_CLIENT_ID and not has_controls(client_id)
    if document is not None and document.client_id == client_id:
        app: App | None = document
    elif client_id.startswith("https://"):
        # A metadata document's URL, not fetched: documents are off on this server.
        raise UntrustedRedirect("This server does not accept client ID metadata documents.")
    else:
        app = await store.app_by_client_id(client_id) if plausible else None
    if app is None:
        raise UntrustedRedirect(
            "No application is registered under this client id.", debug=client_id[:MAX_CLIENT_ID]
        )
    requested = _once(params, "redirect_uri")
    if requested is None:
        # RFC 6749 §3.1.2.3: the parameter may be omitted only when one URI is registered.
        if len(app.redirect_uris) != 1:
            raise UntrustedRedirect(
                "The request does not say where to return, and the application has "
                "several redirect URIs."
            )
        redirect_uri = app.redirect_uris[0]
    elif app.registration == "document" and requested in app.redirect_uris:
        redirect_uri = requested  # the document's URIs, exactly
    elif app.registration != "document" and matches(app.redirect_uris, requested):
        redirect_uri = requested  # RFC 8252 §7.3: a loopback port may differ; keep the asked one
    else:
        # RFC 9700 §4.1.3: exact string comparison with the registered URIs.
        raise UntrustedRedirect(
            "The redirect URI is not registered for this application.", debug=requested[:300]
        )

    state = _once(params, "state")
    if _repeated(params, "state") or len(state or "") > MAX_VALUE:
        state = None  # not sent back: it is refused below

    def refuse(error: OAuthError) -> AuthorizationErrorResponse:
        return AuthorizationErrorResponse(error, redirect_uri=redirect_uri, state=state)

    for name in PARAMETERS:
        # RFC 8707 §2: `resource` may repeat to name several resources; paced has one.
        if name == "resource" and _repeated(params, name):
            raise refuse(InvalidTarget(resources.ONE_RESOURCE))
        # RFC 6749 §3.1: request parameters MUST NOT be included more than once.
        if _repeated(params, name):
            raise refuse(InvalidRequest(f"The {name} parameter is repeated."))
        if len(_once(params, name) or "") > MAX_VALUE:
            raise refuse(InvalidRequest(f"The {name} parameter is too long."))
    response_type = _once(params, "response_type")
    # RFC 6749 §4.1.1: response_type is required and must be "code".
    if response_type is None:
        raise refuse(InvalidRequest("The response_type parameter is missing."))
    if response_type != "code":
        raise refuse(UnsupportedResponseType("Only response_type=code is supported."))
    try:
        # RFC 6749 §3.3: absent means the default scope; unknown scopes are invalid_scope.
        granted = scopes.parse(_once(params, "scope"))
    except OAuthError as error:
        raise refuse(error) from None
    challenge = _once(params, "code_challenge")
    method = _once(params, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise refuse(InvalidRequest("code_challenge_method was sent without code_challenge."))
        # RFC 7636 §4.4.1, RFC 9700 §2.1.1: a public client must use PKCE.
        if app.public:
            raise refuse(InvalidRequest("PKCE is required: send code_challenge with method S256."))
    else:
        # RFC 7636 §4.3 would default to plain; RFC 9700 §2.1.1: only S256 is accepted.
        if method is None:
            raise refuse(InvalidRequest("code_challenge_method is required and must be S256."))
        if method != pkce.S256:
            raise refuse(InvalidRequest("Only code_challenge_method=S256 is supported."))
        # RFC 7636 §4.2: BASE64URL of a SHA-256 hash: 43 characters.
        if not pkce.is_valid_challenge(challenge):
            raise refuse(InvalidRequest("The code_challenge is malformed."))
    try:
        # RFC 8707 §2: the one resource is the API; anything else is invalid_target.
        resource = resources.checked(_once(params, "resource"), issuer)
    except OAuthError as error:
        raise refuse(error) from None

    return AuthorizationRequest(
        app=app,
        redirect_uri=redirect_uri,
        requested_redirect_uri=requested or "",
        scopes=granted,
        state=state,
        code_challenge=challenge,
        prompt=_once(params, "prompt"),
        resource=resource,
        parameters=tuple(
            (name, value) for name in PARAMETERS if (value := _once(params, name)) is not None
        ),
    )


def response_uri(redirect_uri: str, parameters: Sequence[tuple[str, str]]) -> str:
    """`redirect_uri` with `parameters` added to its query, keeping the query it already
    has (RFC 6749 §3.1.2: "MUST retain the query component")."""
    parts = urlsplit(redirect_uri)
    added = urlencode(list(parameters))
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query, fragment=""))
