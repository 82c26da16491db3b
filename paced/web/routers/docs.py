"""`/docs`: the interactive API documentation, Swagger UI, served by paced itself.

Swagger UI's files come from the pinned `swagger-ui-py` package (a maintained wheel that
ships Swagger UI's own dist files and licence), mounted at `/docs/assets`; the script
that starts it is our `static/docs.js`, so that the page runs under the same
Content-Security-Policy as every other one (no inline script, nothing from another
host): it works offline. `/favicon.ico` answers too, so that no browser logs a 404.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
STATIC = Path(__file__).resolve().parent.parent.parent / "static"


def swagger_ui_files() -> Path:
    """The folder of Swagger UI's dist files inside the installed package (found without
    importing it: its Python half is for other frameworks)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Paced Email API</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
  <script src="/static/docs.js" defer></script>
</head>
<body>
  <noscript>
    <p>The interactive documentation needs JavaScript. The API is described in
    <a href="/openapi.json">/openapi.json</a>.</p>
  </noscript>
  <div id="swagger-ui"></div>
</body>
</html>
"""


@router.get("/docs")
async def docs() -> Response:
    return HTMLResponse(PAGE)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return FileResponse(
        STATIC / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
