"""``/docs`` on `userflow local`: an interactive reference of docs/openapi.json (Swagger UI).

Served from the vendored, pinned Swagger UI in docs/assets/swagger-ui (no network needed), with
the document's ``servers`` set to the stack the page came from, so "Try it out" calls it. Local
only: API Gateway has no such route, and the middleware answers before routing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "docs" / "openapi.json"
ASSETS = ROOT / "docs" / "assets" / "swagger-ui"
PREFIX = "/docs"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Userflow API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/reference.js"></script>
</body>
</html>
"""
# In a file of its own, not inline: the page works under a strict Content-Security-Policy.
SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true
});
"""
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
# Nothing but this stack: the page needs no network (Swagger UI sets inline style attributes).
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
SECURITY_HEADERS = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff")]


def _document(host: str) -> bytes:
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    document["servers"] = [{"url": f"http://{host}", "description": "This `userflow local`"}]
    return json.dumps(document).encode()


def reference_response(path: str, host: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) for a ``/docs`` path; None for any other path."""
    if path in (PREFIX, f"{PREFIX}/", f"{PREFIX}/index.html"):
        return 200, "text/html; charset=utf-8", PAGE.encode()
    if path == f"{PREFIX}/reference.js":
        return 200, "text/javascript; charset=utf-8", SCRIPT.encode()
    if path == f"{PREFIX}/openapi.json":
        return 200, "application/json", _document(host)
    name = path.removeprefix(f"{PREFIX}/")
    if path.startswith(f"{PREFIX}/") and name in ASSET_TYPES:
        return 200, ASSET_TYPES[name], (ASSETS / name).read_bytes()
    return None


def api_reference_middleware() -> Callable[..., Any]:
    """The gateway middleware (``(request, call_next) -> response``) serving ``/docs``."""
    from samlocal.apigateway.gateway import Handler, Request
    from samlocal.apigateway.responses import Response, json_response

    def middleware(request: Request, call_next: Handler) -> Response:
        if not (request.path == PREFIX or request.path.startswith(f"{PREFIX}/")):
            return call_next(request)
        if request.method not in ("GET", "HEAD"):
            return json_response(404, "Not Found")
        host = next((v for n, v in request.headers if n.lower() == "host"), "127.0.0.1")
        found = reference_response(request.path, host)
        if found is None:
            return json_response(404, "Not Found")
        status, content_type, body = found
        headers = [("Content-Type", content_type), *SECURITY_HEADERS]
        return Response(status, headers, b"" if request.method == "HEAD" else body)

    return middleware
