"""`create_app(settings)`: the whole HTTP service, built from one settings object."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from paced import __version__, outbound
from paced.core import passwords
from paced.core.passkeys import RelyingParty
from paced.core.totp import SecretBox
from paced.logs import AccessLog, resolve_format
from paced.mail.compose import Composer
from paced.mail.sender import MailSender
from paced.mail.transport import transport_for
from paced.settings import Settings
from paced.storage.database import open_database
from paced.web import bearer, errors, openapi, templating
from paced.web.answered import Answered
from paced.web.cookies import Cookies
from paced.web.edge import Edge
from paced.web.ratelimit import RateLimits
from paced.web.routers import (
    api_v1,
    bench,
    credentials,
    device_verification,
    docs,
    health,
    oauth_authorize,
    oauth_register,
    oauth_tokens,
    well_known,
)
from paced.web.routers.pages import (
    account,
    accounts,
    applications,
    authorized_apps,
    developer,
    mailed_links,
    passkey_sign_in,
    passkeys,
    security,
    security_log,
    sessions,
    two_factor,
)
from paced.web.signing import Signer
from paced.web.state import AppState, Clock, system_clock

PACKAGE = Path(__file__).resolve().parent.parent


class LeanFastAPI(FastAPI):
    """FastAPI with only the layers paced uses around its routes: Starlette's error and
    exception middleware, and FastAPI's exit stack, which its routes need. Left out:
    FastAPI's OpenTelemetry instrumentation (paced's metrics are Prometheus's, and the
    check whether a tracer is configured ran on every request) and its body limit
    (`paced.web.edge` has its own). Every layer wraps each request's `send`.

    The added middleware (`Edge`, and the proxy headers when a proxy is trusted) is the
    outermost: a declared endpoint, served by `Edge` and answering its own errors, passes
    no other layer, and the error middleware's 500 passes through `Edge` like every other
    answer (its request id, its security headers, its access-log line).

    The application's state is its typed attribute `paced` (`paced.web.deps.app_state`):
    a plain attribute, where Starlette's `app.state` answers through `__getattr__`, on
    every API request."""

    paced: AppState

    def build_middleware_stack(self) -> ASGIApp:
        error_handler = None
        handlers: dict[Any, ExceptionHandler] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        app: ASGIApp = ServerErrorMiddleware(
            ExceptionMiddleware(
                AsyncExitStackMiddleware(self.router), handlers=handlers, debug=self.debug
            ),
            handler=error_handler,
            debug=self.debug,
        )
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette's own, without FastAPI's layer around it.
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        await self.middleware_stack(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    log_stream: TextIO | None = None,
) -> FastAPI:
    """`log_stream`: where the access log goes (standard error by default)."""
    settings = settings or Settings()
    if not settings.base_url:
        settings = settings.with_port("127.0.0.1", 8000)
    database = open_database(
        settings.database_url, pool_size=settings.db_pool_size, timeout=settings.db_timeout
    )
    templates = Jinja2Templates(directory=PACKAGE / "templates")
    templating.configure(templates.env)
    policy = settings.policy()
    secret_key = settings.resolved_secret_key()
    state = AppState(
        settings=settings,
        policy=policy,
        database=database,
        signer=Signer(secret_key),
        templates=templates,
        clock=clock,
        cookies=Cookies.for_base_url(settings.base_url),
        rate_limits=RateLimits(settings),
        mail=MailSender(
            database,
            transport_for(settings.smtp_url, settings.mail_outbox),
            Composer(base_url=settings.base_url, sender=settings.mail_from),
            policy,
            clock,
        ),
        totp_box=SecretBox(secret_key),
        relying_party=RelyingParty.for_base_url(settings.base_url),
        documents=outbound.DocumentFetcher(allow_private=settings.outbound_allow_private),
    )
    documents = state.documents

    access_log = (
        AccessLog(log_stream or sys.stderr, resolve_format(settings.log_format))
        if settings.access_log
        else None
    )
    metrics = bool(settings.metrics_port)
    answered = Answered(access_log, metrics=metrics) if access_log or metrics else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What exists now (modules, routes, templates) lives as long as the process: out
        # of the collector's sight, a full collection walks only what requests made. It
        # walked everything before, stalling every request in flight (docs/benchmarks.md).
        gc.freeze()
        # The hasher's dummy hash (an unknown email's check) is made on its thread now,
        # not in the first sign-in.
        passwords.hasher(state.policy.password_hashing)
        # The outbox's sender: what requests queued (and what a dead process left).
        state.mail.start()
        yield
        await state.mail.aclose()
        await state.rate_limits.aclose()
        if isinstance(documents, outbound.DocumentFetcher):
            await documents.aclose()
        await database.close()
        if answered is not None:
            answered.close()

    app = LeanFastAPI(
        title="Paced Email API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # paced.web.routers.docs serves /docs, offline
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.paced = state
    app.state.answered = answered
    # The JSON endpoints, each declared once (paced.web.endpoints), served by Edge.
    declared = [
        api_v1.api,
        credentials.reports,
        oauth_tokens.oauth,
        oauth_register.register_endpoint,
        well_known.well_known,
        health.health,
    ]
    if settings.bench_floor:
        declared.append(bench.floor)
    app.add_middleware(
        Edge,
        endpoints=[route for endpoints in declared for route in endpoints.routes()],
        claims=[(e.claims, e.shape) for e in declared if e.claims is not None],
        max_body_bytes=settings.max_body_bytes,
        refuse=errors.body_too_large,
        https=state.cookies.secure,
        answered=answered,
    )
    # Outermost last: proxy headers first, so that logs and limits see the client's address.
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    errors.install(app)
    app.include_router(accounts.router)
    app.include_router(account.router)
    app.include_router(mailed_links.router)
    app.include_router(oauth_authorize.router)
    app.include_router(device_verification.router)
    app.include_router(authorized_apps.router)
    app.include_router(security_log.router)
    app.include_router(security.router)
    app.include_router(passkeys.router)
    app.include_router(sessions.router)
    app.include_router(two_factor.router)
    app.include_router(passkey_sign_in.router)
    app.include_router(developer.router)
    app.include_router(applications.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    app.mount(docs.ASSETS, StaticFiles(directory=docs.swagger_ui_files()), name="docs-assets")
    bearer.declare_scheme(
        app,
        [
            *(route for endpoints in declared for route in endpoints.documented()),
            *openapi.authorization_endpoint(),
        ],
    )
    return app


def app_from_environment() -> FastAPI:
    """The factory `paced serve` hands to uvicorn (one call per worker process)."""
    return create_app(Settings())
