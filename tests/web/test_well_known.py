"""`GET /.well-known/oauth-authorization-server` (RFC 8414 §3)."""

from __future__ import annotations

import httpx

from paced.core.metadata import server_metadata


async def test_metadata_is_served_for_the_configured_issuer(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document == server_metadata("http://testserver")
    assert document["issuer"] == "http://testserver"
    assert document["token_endpoint"] == "http://testserver/oauth/token"
