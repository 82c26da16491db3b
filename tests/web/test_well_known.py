"""`GET /.well-known/oauth-authorization-server` (RFC 8414 §3)."""

from __future__ import annotations

import httpx
import pytest

from paced.core.metadata import server_metadata
from paced.settings import Settings
from tests.helpers import app_client


async def test_metadata_is_served_for_the_configured_issuer(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document == server_metadata("http://testserver")
    assert document["issuer"] == "http://testserver"
    assert document["token_endpoint"] == "http://testserver/oauth/token"


@pytest.mark.parametrize(
    "path",
    ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api/v1"],
    ids=["at the bare well-known path", "at the path with the resource's path appended"],
)
async def test_protected_resource_metadata_names_the_api_and_its_server(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "resource": "http://testserver/api/v1",
        "authorization_servers": ["http://testserver"],
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Paced Email API",
    }


async def test_metadata_advertises_registration_and_documents_while_they_are_on(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert document["registration_endpoint"] == "http://testserver/oauth/register"
    assert document["client_id_metadata_document_supported"] is True
    assert document["device_authorization_endpoint"] == (
        "http://testserver/oauth/device_authorization"
    )
    assert document["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]


async def test_metadata_omits_what_the_operator_turned_off(settings: Settings) -> None:
    off = settings.model_copy(
        update={"dynamic_registration": "off", "client_id_metadata_documents": "off"}
    )
    async with app_client(off) as client:
        document = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert "registration_endpoint" not in document
    assert "client_id_metadata_document_supported" not in document
