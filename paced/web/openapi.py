"""What `/openapi.json` says about answers the routes build themselves.

The OAuth endpoints read their form bodies and write their JSON by hand (the core must see
repeated parameters, RFC 6749 §3.2), so FastAPI cannot infer either: they are described
here, with the errors any documented route may answer, and so is the authorization
endpoint, a page and a redirect rather than JSON. Generators such as schemathesis
read this document, and tests/e2e/test_openapi_fuzz.py holds the server to it.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse

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


def _error(
    description: str, headers: dict[str, Any] | None = None, *, example: str = "invalid_request"
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {
            "application/json": {
                "schema": ERROR,
                "example": {"error": example, "error_description": EXAMPLES[example]},
            }
        },
    }
    if headers:
        answer["headers"] = headers
    return answer


EXAMPLES = {
    "invalid_request": "The grant_type parameter is missing.",
    "invalid_client": "Client authentication failed.",
    "rate_limited": "Too many requests. Try again in 30 seconds.",
    "temporarily_unavailable": "The service is temporarily unavailable. Try again in a moment.",
}

# Answers of every documented route: body too large, rate limited, database unavailable.
COMMON: dict[int | str, dict[str, Any]] = {
    413: _error("The request body is over the cap (`invalid_request`)."),
    429: _error("Too many requests (`rate_limited`).", _RETRY_AFTER, example="rate_limited"),
    503: _error(
        "The database cannot be reached (`temporarily_unavailable`, or on the API "
        "`service_unavailable`).",
        _RETRY_AFTER,
        example="temporarily_unavailable",
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
        example="invalid_client",
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
        "description": "New tokens, with `Cache-Control: no-store`.",
        "content": {
            "application/json": {
                "schema": TOKEN,
                "example": {
                    "access_token": "pt_oauth_7Qm2c9XvR4kLpW8sT1bN6yH3dFa0Zg4IXTi6",
                    "token_type": "bearer",
                    "expires_in": 7200,
                    "refresh_token": "pt_refresh_Kd82LmQ0xW5vR7tY1nB4cZ9pHs3Ag61cLMRQ",
                    "scope": "read",
                    "created_at": 1768478400,
                },
            }
        },
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
        "content": {
            "application/json": {
                "schema": INTROSPECTION,
                "example": {
                    "active": True,
                    "scope": "read",
                    "client_id": "r4Nq8ZkP2xLm7Vt1Yc9Bw3Hs6Jd0Fg5e",
                    "username": "ann@example.com",
                    "sub": "user_4fK2mQ9xZr8LwT1bN6yH3cVd",
                    "token_type": "bearer",
                    "exp": 1768485600,
                    "iat": 1768478400,
                },
            }
        },
    },
    **OAUTH_ERRORS,
}


# --- /oauth/authorize: a page and a redirect, not JSON (RFC 6749 §4.1.1, §4.1.2) -----------

_AUTHORIZE_PARAMETERS = (
    ("response_type", "`code`, the only type this server issues.", True),
    ("client_id", "The application's client id.", True),
    ("redirect_uri", "One of the app's registered redirect URIs (optional if it has one).", False),
    ("scope", "Space-separated: `read`, `write`; `read` when absent.", False),
    ("state", "Opaque to the server; sent back with the code or the error.", False),
    ("code_challenge", "PKCE (RFC 7636): the S256 challenge; public clients must send it.", False),
    ("code_challenge_method", "`S256` (`plain` is refused).", False),
)
_HTML = {"text/html": {"schema": _STRING, "example": "<!doctype html>…"}}
_LOCATION = {
    "Location": {
        "description": "Where the browser goes next.",
        "schema": _STRING,
        "example": "https://app.example/callback?code=…&state=xyz&iss=https%3A%2F%2Fpaced.example",
    }
}
_AUTHORIZE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The consent screen, naming the app and the scopes.", "content": _HTML},
    303: {
        "description": (
            "A signed-out browser is sent to `/login?next=…` and back; an approval goes to "
            "`redirect_uri?code=…&state=…&iss=…`; a refusal or another error to "
            "`redirect_uri?error=…&state=…&iss=…` (`access_denied`, `invalid_request`, "
            "`invalid_scope`, `unsupported_response_type`)."
        ),
        "headers": _LOCATION,
    },
    400: {
        "description": (
            "An error page, and no redirect: the client id is unknown, or the redirect URI "
            "is missing, not registered or repeated (RFC 6749 §4.1.2.1)."
        ),
        "content": _HTML,
    },
    413: {"description": "The request is over the size cap.", "content": _HTML},
    503: {"description": "The database cannot be reached (`Retry-After`).", "content": _HTML},
}


def authorization_endpoint() -> list[APIRoute]:
    """`/oauth/authorize` as documented routes (the page routes themselves are FastAPI's,
    kept out of the schema): GET with the request in the query, POST from the consent
    screen's form."""

    async def described_only() -> None:  # pragma: no cover (never called)
        raise RuntimeError("documentation only")

    query = [
        {
            "name": name,
            "in": "query",
            "required": required,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text, required in _AUTHORIZE_PARAMETERS
    ]
    form_fields = {
        **{
            name: {"type": "string", "description": text} for name, text, _ in _AUTHORIZE_PARAMETERS
        },
        "csrf_token": {"type": "string", "description": "The consent screen's CSRF token."},
        "decision": {"type": "string", "description": "`approve`; anything else denies."},
    }
    post_answers: dict[int | str, dict[str, Any]] = {
        **_AUTHORIZE_ANSWERS,
        403: {
            "description": "The form's CSRF token is missing or wrong (an error page).",
            "content": _HTML,
        },
    }
    form = {"type": "object", "properties": form_fields}
    return [
        APIRoute(
            "/oauth/authorize",
            described_only,
            methods=["GET"],
            tags=["OAuth 2"],
            response_class=HTMLResponse,
            responses=_AUTHORIZE_ANSWERS,
            summary="Ask a person to authorize an application (the consent screen)",
            description=(
                "Opened in the person's browser, not called by a program: shows the consent "
                "screen, or sends a signed-out browser to sign in first. The answer is an "
                "HTML page or a redirect, never JSON."
            ),
            openapi_extra={"parameters": query},
        ),
        APIRoute(
            "/oauth/authorize",
            described_only,
            methods=["POST"],
            tags=["OAuth 2"],
            response_class=HTMLResponse,
            responses=post_answers,
            summary="The consent screen's answer: approve or deny",
            description=(
                "Posted by the consent screen's form with the request's parameters, its "
                "CSRF token and the decision; everything is checked again."
            ),
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/x-www-form-urlencoded": {"schema": form}},
                }
            },
        ),
    ]


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
        "content": {
            "application/json": {
                "schema": DEVICE_AUTHORIZATION,
                "example": {
                    "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
                    "user_code": "WDJB-MJHT",
                    "verification_uri": "https://paced.example/device",
                    "verification_uri_complete": "https://paced.example/device?user_code=WDJB-MJHT",
                    "expires_in": 900,
                    "interval": 5,
                },
            }
        },
    },
    **OAUTH_ERRORS,
}
