"""`create_app(settings)`: the whole HTTP service, built from one settings object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from paced import __version__
from paced.settings import Settings
from paced.storage.engine import create_engine
from paced.web import errors, templating
from paced.web.headers import SecurityHeaders
from paced.web.routers import api_v1, bench, health, oauth_authorize, oauth_tokens, well_known
from paced.web.routers.pages import account, accounts, applications, authorized_apps, developer
from paced.web.signing import Signer
from paced.web.state import AppState, Clock, system_clock

PACKAGE = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    if not settings.base_url:
        settings = settings.with_port("127.0.0.1", 8000)
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, timeout=settings.db_timeout
    )
    templates = Jinja2Templates(directory=PACKAGE / "templates")
    templating.configure(templates.env)
    state = AppState(
        settings=settings,
        policy=settings.policy(),
        engine=engine,
        signer=Signer(settings.resolved_secret_key()),
        templates=templates,
        clock=clock,
        secure_cookies=settings.base_url.startswith("https://"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="Paced Email API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.paced = state
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    app.include_router(health.router)
    if settings.bench_floor:
        app.include_router(bench.router)
    app.include_router(accounts.router)
    app.include_router(account.router)
    app.include_router(oauth_authorize.router)
    app.include_router(oauth_tokens.router)
    app.include_router(well_known.router)
    app.include_router(authorized_apps.router)
    app.include_router(developer.router)
    app.include_router(applications.router)
    app.include_router(api_v1.router)
    return app


def app_from_environment() -> FastAPI:
    """The factory `paced serve` hands to uvicorn (one call per worker process)."""
    return create_app(Settings())
