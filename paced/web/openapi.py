"""What `/openapi.json` says about answers the routes build themselves.

The OAuth endpoints read their form bodies and write their JSON by hand (the core must see
repeated parameters, RFC 6749 §3.2), so FastAPI cannot infer either: they are described
here, with the errors any documented route may answer. Generators such as schemathesis
read this document, and tests/e2e/test_openapi_fuzz.py holds the server to it.
"""

from __future__ import annotations

from typing import Any

from paced.core.token_endpoint import MAX_VALUE

_STRING = {"type": "string"}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": _STRING}
}
ERROR = {
    "type": "object",
    "properties": {"error": _STRING, "error_description": _STRING},
    "required": ["error", "error_description"],
}

# Per form field, beyond "a string": only what the endpoint enforces for every request, so
# that a value outside it is always refused.
FIELDS: dict[str, dict[str, Any]] = {
    "grant_type": {
        "enum": [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ]
    },
}


def form_field(name: str, description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": MAX_VALUE, "description": description} | FIELDS.get(
        name, {}
    )


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR}},
    }
    if headers:
        answer["headers"] = headers
    return answer


# Answers of every documented route: body too large, rate limited, database unavailable.
COMMON: dict[int | str, dict[str, Any]] = {
    413: _error("The request body is over the cap (`invalid_request`)."),
    429: _error("Too many requests (`rate_limited`).", _RETRY_AFTER),
    503: _error(
        "The database cannot be reached (`temporarily_unavailable`, or on the API "
        "`service_unavailable`).",
        _RETRY_AFTER,
    ),
}

OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error(
        "RFC 6749 §5.2: `invalid_request`, `invalid_grant`, `unauthorized_client`, "
        "`unsupported_grant_type` or `invalid_scope`."
    ),
    401: _error(
        "Client authentication failed (`invalid_client`).",
        {"WWW-Authenticate": {"description": '`Basic realm="Paced Email"`', "schema": _STRING}},
    ),
    **COMMON,
}

TOKEN = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string", "pattern": "^pt_oauth_[0-9A-Za-z]{36}$"},
        "token_type": {"type": "string", "enum": ["bearer"]},
        "expires_in": {"type": "integer", "minimum": 1},
        "refresh_token": {"type": "string", "pattern": "^pt_refresh_[0-9A-Za-z]{36}$"},
        "scope": {"type": "string"},
        "created_at": {"type": "integer"},
    },
    "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope"],
}

INTROSPECTION = {
    "type": "object",
    "properties": {
        "active": {"type": "boolean"},
        "scope": _STRING,
        "client_id": _STRING,
        "username": _STRING,
        "sub": _STRING,
        "token_type": {"type": "string", "enum": ["bearer", "refresh_token"]},
        "exp": {"type": "integer"},
        "iat": {"type": "integer"},
    },
    "required": ["active"],
}

TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "New tokens (SPEC §6), with `Cache-Control: no-store`.",
        "content": {"application/json": {"schema": TOKEN}},
    },
    **OAUTH_ERRORS,
}
REVOCATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Revoked, or not a token of this client: the same answer (RFC 7009 §2.2)."
    },
    **OAUTH_ERRORS,
}
INTROSPECTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'RFC 7662 §2.2; `{"active": false}` for anything not the caller\'s.',
        "content": {"application/json": {"schema": INTROSPECTION}},
    },
    **OAUTH_ERRORS,
}

DEVICE_AUTHORIZATION = {
    "type": "object",
    "properties": {
        "device_code": _STRING,
        "user_code": {
            "type": "string",
            "pattern": "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$",
        },
        "verification_uri": _STRING,
        "verification_uri_complete": _STRING,
        "expires_in": {"type": "integer", "minimum": 1},
        "interval": {"type": "integer", "minimum": 1},
    },
    "required": [
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    ],
}
DEVICE_AUTHORIZATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A device code for the client and a user code for the person "
        "(RFC 8628 §3.2), with `Cache-Control: no-store`.",
        "content": {"application/json": {"schema": DEVICE_AUTHORIZATION}},
    },
    **OAUTH_ERRORS,
}
