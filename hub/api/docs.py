"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served by the hub itself, so that both work
without the internet and under the hub's content security policy (no inline script, nothing
from a CDN). The assets are fastapi-standalone-docs' copies of the two distributions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

#: Each asset's media type and where it lies in fastapi-standalone-docs' static files.
_ASSETS = {
    "swagger-ui-bundle.js": ("application/javascript", "swagger"),
    "swagger-ui.css": ("text/css", "swagger"),
    "redoc.standalone.js": ("application/javascript", "redoc"),
    "favicon.png": ("image/png", "fastapi"),
}
_INIT = Path(__file__).with_name("static") / "swagger-init.js"

_SWAGGER = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body>
</html>
"""

_REDOC = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API reference</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
"""


def docs_router(title: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    bundled = resources.files("fastapi_standalone_docs") / "static"
    swagger, redoc = _SWAGGER.format(title=title), _REDOC.format(title=title)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(swagger)

    @router.get("/redoc")
    def reference() -> HTMLResponse:
        return HTMLResponse(redoc)

    @router.get("/docs/assets/{name}")
    def asset(name: str) -> FileResponse:
        if name == _INIT.name:
            return FileResponse(_INIT, media_type="application/javascript")
        known = _ASSETS.get(name)
        if known is None:
            raise HTTPException(404, {"error": "not_found", "message": f"no asset {name}"})
        media_type, folder = known
        with resources.as_file(bundled / folder / name) as path:
            return FileResponse(
                path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
            )

    return router
