"""The one place where errors become HTTP: JSON, `WWW-Authenticate`, or a page."""

from __future__ import annotations

import logging
from functools import lru_cache

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from paced.core import resource
from paced.core.authorization_request import (
    AuthorizationErrorResponse,
    UntrustedRedirect,
    response_uri,
)
from paced.core.errors import (
    BearerError,
    InsufficientScope,
    InvalidClient,
    MissingCredentials,
    OAuthError,
    PacedError,
    RateLimited,
)
from paced.storage.errors import Unavailable, Unstorable
from paced.web import metrics
from paced.web.deps import CsrfFailed, LoginRequired, app_state, login_url, viewer
from paced.web.edge import SHAPE, route_of
from paced.web.json_response import JSONResponse
from paced.web.limits import BodyTooLarge

log = logging.getLogger("paced.web")

REALM = 'Bearer realm="Paced Email"'
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def bearer_response(error: BearerError, resource_metadata: str) -> Response:
    """RFC 6750 §3: the challenge, and the API's error body. A 401 names the API's
    protected resource metadata, where a client finds how to get a token (RFC 9728 §5.1)."""
    scope = error.scope if isinstance(error, InsufficientScope) else None
    return _bearer_answer(
        error.error,
        error.description,
        scope,
        error.status,
        isinstance(error, MissingCredentials),
        resource_metadata if error.status == 401 else None,
    )


@lru_cache(maxsize=64)
def _bearer_answer(
    code: str,
    description: str,
    scope: str | None,
    status: int,
    missing: bool,
    resource_metadata: str | None,
) -> Response:
    """One kind of refusal, made once and sent as it is to every request it answers
    (`Edge` adds its headers to a list of the answer's own): the descriptions are a fixed
    few, and a client with a broken token sends it over and over."""
    challenge = REALM
    if resource_metadata is not None:
        challenge += f', resource_metadata="{_quoted(resource_metadata)}"'
    if not missing:
        challenge += f', error="{code}", error_description="{_quoted(description)}"'
    if scope is not None:
        challenge += f', scope="{scope}"'
    return JSONResponse(
        {"error": code, "error_description": description},
        status_code=status,
        headers={"WWW-Authenticate": challenge},
    )


def bearer_failure(request: Request, error: BearerError) -> Response:
    """A failed Bearer check of a declared API endpoint, counted and answered."""
    metrics.bearer_failed(error)
    return bearer_response(error, resource.metadata_url(app_state(request).issuer))


def oauth_json_response(error: OAuthError | RateLimited) -> JSONResponse:
    """RFC 6749 §5.2, for the token, revocation and introspection endpoints."""
    headers = dict(NO_STORE)
    if isinstance(error, InvalidClient):
        headers["WWW-Authenticate"] = 'Basic realm="Paced Email"'
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


def _shape(request: Request, shape: str | None = None) -> str | None:
    """The JSON shape an error on this request answers in, or None for a page: the
    declared endpoint's (paced.web.endpoints), as given or as `Edge` put it in the
    scope, which also holds it for an unknown path under a claimed prefix."""
    if shape is not None:
        return shape
    found: str | None = request.scope.get(SHAPE)
    return found


def _is_api(request: Request) -> bool:
    return _shape(request) is not None


async def error_page(
    request: Request, status: int, title: str, message: str, *, template: str = "error.html"
) -> Response:
    if _is_api(request):
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid_request")
        if status >= 500:
            code = "server_error"
        return JSONResponse({"error": code, "error_description": message}, status_code=status)
    state = app_state(request)
    context = None
    if status < 500:  # a signed-in person keeps their header; a failing database does not
        try:
            context = await viewer(request, state)
        except Exception:
            log.debug("no viewer for the error page", exc_info=True)
    if context is None:
        return state.templates.TemplateResponse(
            request,
            template,
            {"title": title, "message": message, "user": None, "viewer": None},
            status_code=status,
        )
    return context.render(template, {"title": title, "message": message}, status_code=status)


async def body_too_large(request: Request, limit: int, shape: str | None = None) -> Response:
    """413 in the endpoint's shape (`paced.web.edge`); the connection closes, so that
    the rest of the body is never read."""
    message = f"The request body is too large: send at most {limit // 1024} KB."
    if _shape(request, shape) is not None:
        response: Response = JSONResponse(
            {"error": "invalid_request", "error_description": message},
            status_code=413,
            headers=NO_STORE,
        )
    else:
        response = await error_page(request, 413, "Request too large", message)
    response.headers["Connection"] = "close"
    return response


# --- the database is unreachable: 503, and the client may try again -----------------------

RETRY_AFTER = 5
# The database cannot serve now (unreachable, restarting, locked, out of connections),
# not that a request or the code is wrong: the storage says so (paced.storage.errors).


async def unavailable(request: Request, error: BaseException, shape: str | None = None) -> Response:
    """503 with `Retry-After`, in the endpoint's shape. RFC 6749 §4.1.2.1 names this
    `temporarily_unavailable`; the token, revocation and introspection endpoints say the
    same, and the API says `service_unavailable`."""
    cause = error.__cause__ or error
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        route_of(request.scope),
        type(cause).__name__,
    )
    message = "The service is temporarily unavailable. Try again in a moment."
    headers = {"Retry-After": str(RETRY_AFTER)}
    json_shape = _shape(request, shape)
    if json_shape is not None:
        code = "service_unavailable" if json_shape == "api" else "temporarily_unavailable"
        return JSONResponse(
            {"error": code, "error_description": message},
            status_code=503,
            headers={**NO_STORE, **headers},
        )
    response = await error_page(request, 503, "Temporarily unavailable", message)
    response.headers.update(headers)
    return response


async def bad_data(request: Request, shape: str | None = None) -> Response:
    message = "The request holds a character or value that cannot be stored (such as NUL)."
    if _shape(request, shape) is not None:
        return JSONResponse(
            {"error": "invalid_request", "error_description": message},
            status_code=400,
            headers=NO_STORE,
        )
    return await error_page(request, 400, "Bad request", message)


_UNEXPECTED = "An unexpected error happened on our side. Try again in a moment."


async def _server_error(request: Request, shape: str | None = None) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if shape is not None:  # a declared endpoint, whatever its path
        return JSONResponse(
            {"error": "server_error", "error_description": _UNEXPECTED}, status_code=500
        )
    return await error_page(
        request,
        500,
        "Something went wrong",
        _UNEXPECTED,
    )


# --- the endpoints declared in paced.web.endpoints: one table, by exception type -----------


def method_not_allowed(methods: set[str]) -> Response:
    """405, the same in both JSON shapes."""
    return JSONResponse(
        {
            "error": "method_not_allowed",
            "error_description": "This endpoint does not accept that method.",
        },
        status_code=405,
        headers={"Allow": ", ".join(sorted(methods)), **NO_STORE},
    )


async def answer(request: Request, error: Exception, shape: str) -> Response:
    """What an exception raised by a declared endpoint becomes, in the endpoint's shape:
    `api` (RFC 6750) or `oauth` (RFC 6749 §5.2). The same answers as the exception
    handlers below give the page routes' errors, without unwinding through Starlette's
    exception middleware."""
    if isinstance(error, BearerError):
        return bearer_failure(request, error)
    if isinstance(error, RateLimited):
        metrics.rate_limited(route_of(request.scope))
        return oauth_json_response(error)
    if isinstance(error, OAuthError):
        metrics.auth_failed("oauth", error.error)
        return oauth_json_response(error)
    if isinstance(error, PacedError):
        return JSONResponse(
            {"error": error.error, "error_description": error.description},
            status_code=error.status,
        )
    if isinstance(error, BodyTooLarge):
        return await body_too_large(request, error.limit, shape)
    if isinstance(error, Unstorable):
        return await bad_data(request, shape)
    if isinstance(error, Unavailable):
        return await unavailable(request, error, shape)
    return await _server_error(request, shape)


def install(app: FastAPI) -> None:
    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, error: BodyTooLarge) -> Response:
        return await body_too_large(request, error.limit)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, error: Unavailable) -> Response:
        return await unavailable(request, error)

    # A value the database cannot hold, such as a NUL character in PostgreSQL text: the
    # request's fault, wherever a rule did not catch it first.
    @app.exception_handler(Unstorable)
    async def _unstorable(request: Request, error: Unstorable) -> Response:
        return await bad_data(request)

    # Bearer and token-endpoint errors are answered by `answer`, for the declared
    # endpoints that raise them; these handlers answer the page routes.
    @app.exception_handler(UntrustedRedirect)
    async def _untrusted_redirect(request: Request, error: UntrustedRedirect) -> Response:
        # RFC 6749 §4.1.2.1: tell the user, and never redirect to an untrusted URI.
        title = "This authorization request cannot be used"
        response = await error_page(
            request, 400, title, error.description, template="oauth/error.html"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(AuthorizationErrorResponse)
    async def _to_client(request: Request, error: AuthorizationErrorResponse) -> Response:
        # RFC 6749 §4.1.2.1 with RFC 9207's `iss`; 303 so that no form is re-posted.
        issuer = app_state(request).issuer
        location = response_uri(error.redirect_uri, error.response_parameters(issuer))
        return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, error: RateLimited) -> Response:
        metrics.rate_limited(route_of(request.scope))
        if _is_api(request):
            return oauth_json_response(error)
        response = await error_page(request, 429, "Too many attempts", error.description)
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(PacedError)
    async def _paced(request: Request, error: PacedError) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": error.error, "error_description": error.description},
                status_code=error.status,
            )
        return await error_page(request, error.status, "Something is wrong", error.description)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, error: LoginRequired) -> Response:
        return RedirectResponse(login_url(error.next_path), status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, error: CsrfFailed) -> Response:
        metrics.auth_failed("csrf", "csrf_failed")
        return await error_page(
            request,
            403,
            "This form has expired",
            "The page you sent the form from is too old or came from another site. "
            "Go back, reload the page and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        messages = {
            404: (
                "Page not found",
                "There is nothing at this address. Check the link, or go back.",
            ),
            405: ("Method not allowed", "This address does not accept that kind of request."),
        }
        if _is_api(request):  # a program reads it: no browser's words
            messages = {
                404: ("", "No endpoint at this path. The API is described at /openapi.json."),
                405: ("", "This endpoint does not accept that method."),
            }
        title, message = messages.get(error.status_code, ("Error", str(error.detail)))
        response = await error_page(request, error.status_code, title, message)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        return await error_page(
            request, 400, "Bad request", "The request is missing or has a bad field."
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        return await _server_error(request)
