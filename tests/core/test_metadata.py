"""Authorization server metadata (RFC 8414 §2) as docs/reference.md §6 lists it."""

from __future__ import annotations

from paced.core.metadata import server_metadata
from paced.core.policy import Policy

OFF = Policy(dynamic_registration=False, client_id_metadata_documents=False)


def test_metadata_lists_what_a_client_library_needs() -> None:
    document = server_metadata("https://auth.paced.example/", OFF)
    assert document == {
        "issuer": "https://auth.paced.example",
        "authorization_endpoint": "https://auth.paced.example/oauth/authorize",
        "token_endpoint": "https://auth.paced.example/oauth/token",
        "revocation_endpoint": "https://auth.paced.example/oauth/revoke",
        "introspection_endpoint": "https://auth.paced.example/oauth/introspect",
        "device_authorization_endpoint": "https://auth.paced.example/oauth/device_authorization",
        "scopes_supported": ["read", "write"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }


def test_each_call_gives_its_own_lists() -> None:
    first = server_metadata("https://a.example")
    first["scopes_supported"].append("admin")  # type: ignore[attr-defined]
    first["token_endpoint_auth_methods_supported"].clear()  # type: ignore[attr-defined]
    second = server_metadata("https://a.example")
    assert second["scopes_supported"] == ["read", "write"]
    assert len(second["revocation_endpoint_auth_methods_supported"]) == 3  # type: ignore[arg-type]


def test_registration_and_documents_are_advertised_while_they_are_on() -> None:
    document = server_metadata("https://auth.paced.example", Policy())
    assert document["registration_endpoint"] == "https://auth.paced.example/oauth/register"
    assert document["client_id_metadata_document_supported"] is True
    assert set(document) - set(server_metadata("https://auth.paced.example", OFF)) == {
        "registration_endpoint",
        "client_id_metadata_document_supported",
    }
