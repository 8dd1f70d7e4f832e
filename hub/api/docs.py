"""``/docs``: Swagger UI served by the hub itself, so that it works without the internet and
under the hub's content security policy (no inline script, nothing from a CDN). The
assets are fastapi-swagger's copy of the Swagger UI distribution."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_INIT = Path(__file__).with_name("static") / "swagger-init.js"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body>
</html>
"""


def docs_router(title: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    bundled = resources.files("fastapi_swagger") / "resources"
    page = _PAGE.format(title=title)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get("/docs/assets/{name}")
    def asset(name: str) -> FileResponse:
        if name == _INIT.name:
            return FileResponse(_INIT, media_type="application/javascript")
        media_type = _ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, {"error": "not_found", "message": f"no asset {name}"})
        with resources.as_file(bundled / name) as path:
            return FileResponse(path, media_type=media_type)

    return router
