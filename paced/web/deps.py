"""Dependencies that read as words: `Viewer`, `SignedIn`, `Form`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from paced.core import sessions
from paced.core.records import User
from paced.web import csrf
from paced.web.state import AppState

SESSION_COOKIE = "paced_session"
FLASH_COOKIE = "paced_flash"
MAX_FORM_FIELDS = 50


def app_state(request: Request) -> AppState:
    state: AppState = request.app.paced
    return state


State = Annotated[AppState, Depends(app_state)]


class LoginRequired(Exception):
    """Sends a signed-out visitor to /login, to come back to `next_path` afterwards."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class CsrfFailed(Exception):
    pass


@dataclass
class ViewerContext:
    """Who is looking at a page, and what each page needs to render its forms."""

    request: Request
    state: AppState
    user: User | None
    session_id: str | None
    csrf_nonce: str
    set_csrf_cookie: bool
    flash: str | None = None
    cookies_to_clear: list[str] = field(default_factory=list)

    @property
    def csrf_token(self) -> str:
        return csrf.token_for(self.state.signer, session_id=self.session_id, nonce=self.csrf_nonce)

    def finish(self, response: Response) -> Response:
        """Cookies every page answer carries: the CSRF nonce, a consumed flash."""
        if self.set_csrf_cookie:
            csrf.set_cookie(response, self.state.cookies, self.csrf_nonce)
        for name in self.cookies_to_clear:
            self.state.cookies.delete(response, name)
        return response

    def render(
        self,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        values = {
            "viewer": self,
            "user": self.user,
            "csrf_token": self.csrf_token,
            "flash": self.flash,
            **(context or {}),
        }
        response = self.state.templates.TemplateResponse(
            self.request, template, values, status_code=status_code, headers=headers
        )
        return self.finish(response)


async def viewer(request: Request, state: State) -> ViewerContext:
    session_id = state.cookies.get(request, SESSION_COOKIE)
    user = None
    clear: list[str] = []
    if session_id:
        now = state.clock()
        async with state.database.reading() as store:
            session = await sessions.resume(store, session_id, now, state.policy)
        if session is not None and sessions.needs_touch(session, now, state.policy):
            async with state.database.unit_of_work() as store:
                await sessions.touch(store, session, now)
        if session is None:
            session_id = None
            clear.append(SESSION_COOKIE)
        else:
            user = session.user
    nonce, missing = csrf.anonymous_nonce(request, state.cookies)
    flash = None
    signed_flash = state.cookies.get(request, FLASH_COOKIE)
    if signed_flash is not None:
        flash = state.signer.unsign("flash", signed_flash)
        clear.append(FLASH_COOKIE)
    return ViewerContext(request, state, user, session_id, nonce, missing, flash, clear)


Viewer = Annotated[ViewerContext, Depends(viewer)]


async def signed_in(request: Request, context: Viewer) -> ViewerContext:
    if context.user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return context


SignedIn = Annotated[ViewerContext, Depends(signed_in)]


async def checked_form(request: Request, context: ViewerContext) -> FormData:
    """The posted form, once its CSRF token is checked."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    token = form.get(csrf.FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(
        token.encode(), context.csrf_token.encode()
    ):
        raise CsrfFailed()
    return form


def text(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def safe_next(next_path: str | None, default: str = "/settings/developer") -> str:
    """Only a path on our own origin: never `//host`, `/\\host` or a scheme."""
    if not next_path or not next_path.startswith("/") or next_path.startswith(("//", "/\\")):
        return default
    # It becomes a Location header: printable ASCII only (a browser sends nothing else).
    if len(next_path) > 4000 or not all("!" <= c <= "~" and c != "\\" for c in next_path):
        return default
    return next_path


def redirect(context: ViewerContext, location: str, *, flash: str | None = None) -> Response:
    """The 303 that answers every successful form POST (docs/reference.md §7)."""
    response = Response(status_code=303, headers={"Location": location})
    context.finish(response)
    if flash:
        context.state.cookies.set(response, FLASH_COOKIE, context.state.signer.sign("flash", flash))
    return response
