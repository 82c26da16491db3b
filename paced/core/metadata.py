"""Authorization server metadata (RFC 8414): what a client library configures itself from.

It advertises exactly what works: the registration endpoint only while registration is
open, client ID metadata documents only while they are accepted.
"""

from __future__ import annotations

from paced.core import device_authorization, device_grant, pkce, scopes
from paced.core.policy import Policy

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def server_metadata(issuer: str, policy: Policy | None = None) -> dict[str, object]:
    """RFC 8414 §2, for the issuer `issuer` (PACED_BASE_URL, no trailing slash)."""
    policy = policy or Policy()
    issuer = issuer.rstrip("/")
    document: dict[str, object] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        # RFC 8628 §4.
        "device_authorization_endpoint": f"{issuer}{device_authorization.ENDPOINT}",
        "scopes_supported": list(scopes.ALL),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", device_grant.GRANT_TYPE],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        # RFC 7662 §2.1: the caller must authenticate, so no "none" here.
        "introspection_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS[:2]),
        "code_challenge_methods_supported": list(pkce.METHODS),
        # RFC 9207: `iss` is in every authorization response.
        "authorization_response_iss_parameter_supported": True,
    }
    if policy.dynamic_registration:
        # RFC 7591 §3, RFC 8414 §2.
        document["registration_endpoint"] = f"{issuer}/oauth/register"
    if policy.client_id_metadata_documents:
        # The IETF draft "OAuth Client ID Metadata Document", as MCP (2025-11-25) uses it.
        document["client_id_metadata_document_supported"] = True
    return document
