"""The protected resource (RFC 9728) and resource indicators (RFC 8707).

paced protects one resource, the API under `/api/v1`, identified as `<issuer>/api/v1`.
A client may name it as `resource` in the authorization and token requests (a trailing
`/` tolerated); the tokens of such a grant are bound to it (introspection reports it as
`aud`). Anything else, or more than one resource, is `invalid_target` (RFC 8707 §2).
"""

from __future__ import annotations

from paced.core import scopes
from paced.core.errors import InvalidTarget, shown

API_PATH = "/api/v1"
RESOURCE_NAME = "Paced Email API"
METADATA_PATH = "/.well-known/oauth-protected-resource"
# RFC 8707 §2: a request may name several resources; paced protects one.
ONE_RESOURCE = "Name one resource: this server protects only its API."


def api_resource(issuer: str) -> str:
    """The API's resource identifier: absolute, https or http, no fragment (RFC 8707 §2)."""
    return issuer.rstrip("/") + API_PATH


def metadata_url(issuer: str) -> str:
    """Where the API's protected resource metadata is (RFC 9728 §3, §5.1)."""
    return issuer.rstrip("/") + METADATA_PATH


def bound(requested: str | None, issuer: str, grant_resource: str | None) -> str | None:
    """`checked`, at the token endpoint: a grant bound to the API yields tokens for the API
    only (RFC 8707 §2.2: the resource must be one the authorization allowed)."""
    resource = checked(requested, issuer)
    if resource is not None and grant_resource is not None and resource != grant_resource:
        raise InvalidTarget("The authorization was given for another resource.")
    return resource


def checked(requested: str | None, issuer: str) -> str | None:
    """The resource a request names, in its canonical form, or None when it names none;
    any resource but the API is InvalidTarget (RFC 8707 §2)."""
    if requested is None:
        return None
    resource = api_resource(issuer)
    if requested not in (resource, resource + "/"):
        raise InvalidTarget(
            f"The only resource is {resource}.", debug=f"resource {shown(requested, 100)!r}"
        )
    return resource


def protected_resource_metadata(issuer: str) -> dict[str, object]:
    """RFC 9728 §2: what a client reads to find the authorization server of the API."""
    return {
        "resource": api_resource(issuer),
        "authorization_servers": [issuer.rstrip("/")],
        "scopes_supported": list(scopes.ALL),
        "bearer_methods_supported": ["header"],
        "resource_name": RESOURCE_NAME,
    }
