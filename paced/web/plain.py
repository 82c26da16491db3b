"""`PlainRoute`: a Starlette route for the hot paths (paced.web.app puts them first)."""

from __future__ import annotations

from starlette.routing import Match, Route
from starlette.types import Scope


class PlainRoute(Route):
    """Names itself in the scope as FastAPI's routes do, so that the access log and the
    metrics label it by its template (paced.web.edge.route_of)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope
