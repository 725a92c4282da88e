"""The /docs page, rendered: its pinned Swagger UI runs in jsdom (scripts/render_api_reference.cjs)
and lists every operation of docs/openapi.json, with no script error and no network beyond the
page's own origin. The page is served by `userflow local`'s own /docs code
(``userflow.api_reference``) from a plain HTTP server, without starting a stack; the e2e tests
check the same page over the stack's gateway (assets pinned by hash, CSP)."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from userflow.api_reference import OPENAPI, SECURITY_HEADERS, reference_response

REPO = Path(__file__).resolve().parents[3]
NODE = REPO / ".venv-tools" / "bin" / "node"
RENDER = REPO / "scripts" / "render_api_reference.cjs"
JSDOM = REPO / "node_modules" / "jsdom" / "package.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

Responder = Callable[[str, str], "tuple[int, str, bytes] | None"]


def _server(respond: Responder) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = respond(self.path, self.headers.get("Host", ""))
            status, content_type, body = found or (404, "application/json", b'{"message":"x"}')
            self.send_response(status)
            for name, value in [("Content-Type", content_type), *SECURITY_HEADERS]:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def serve() -> Iterator[Callable[[Responder], str]]:
    """Serves ``respond`` on a free local port; returns the page's URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Responder) -> str:
        server = _server(respond)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/docs"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _render(url: str) -> dict[str, Any]:
    if not NODE.exists() or not JSDOM.exists():
        pytest.fail("make serverless-tools installs Node (.venv-tools) and jsdom (node_modules)")
    done = subprocess.run(
        [str(NODE), str(RENDER), url, "15000"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_given_the_docs_page_when_rendered_then_every_operation_is_listed_without_errors(
    serve: Callable[[Responder], str],
) -> None:
    document = json.loads(OPENAPI.read_text())
    expected = sorted(
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    )

    page = _render(serve(reference_response))

    assert page["errors"] == []
    assert page["error_box"] is None
    assert page["info_title"].startswith(document["info"]["title"])
    assert sorted((op["method"], op["path"]) for op in page["operations"]) == expected


def test_given_a_broken_document_when_rendered_then_the_page_shows_an_error_and_no_operation(
    serve: Callable[[Responder], str],
) -> None:
    def broken(path: str, host: str) -> tuple[int, str, bytes] | None:
        if path == "/docs/openapi.json":
            return 200, "application/json", b'{"openapi": "3.1.0", "paths": '
        return reference_response(path, host)

    page = _render(serve(broken))

    assert page["operations"] == []
    assert page["error_box"]
