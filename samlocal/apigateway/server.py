"""The HTTP listener in front of the gateway: waitress, with API Gateway's limits and answers.

Waitress parses HTTP (``Content-Length``, chunked bodies, header limits), made strict where a
front end must be by :mod:`samlocal.apigateway.http_framing`; this module sets its limits to API
Gateway's quotas and words its refusals as API Gateway does — JSON, never a 5xx or an HTML page,
before any function runs:

- a body over 10 MB (declared, or chunks adding up) → 413 ``{"message":"Request Entity Too
  Large"}``;
- request line and headers over 10240 bytes → 431;
- malformed framing (bad or negative ``Content-Length``, bad chunk sizes, an unknown
  ``Transfer-Encoding``, ``Content-Length`` with ``Transfer-Encoding``, a bare LF, a control
  character, space or TAB in the target) → 400 ``{"message":"Bad Request"}``, connection closed;
- a request not fully received ``client_timeout`` seconds after its first byte → 408, closed; a
  connection idle that long is closed;
- an absolute-form target (``GET http://host/path``) is routed by its path;
- up to :data:`~samlocal.apigateway.http_framing.MAX_CONNECTIONS` connections, the longest-idle one
  closed when a newcomer would exceed that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from samlocal.apigateway.gateway import Gateway
from samlocal.apigateway.http_framing import (
    StrictRequestParser,
    answer_stalled,
    connection_limit,
    make_room,
)
from samlocal.apigateway.responses import Response, json_response

log = logging.getLogger("samlocal")

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_HEADER_BYTES = 10240
KEPT_STATUSES = {
    408: "Request Timeout",
    413: "Request Entity Too Large",
    431: "Request Header Fields Too Large",
}
"""Waitress's refusals API Gateway also makes; any other is malformed framing: 400."""
HOP_BY_HOP = ("content-length", "connection", "transfer-encoding", "keep-alive")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
AccessLog = Callable[[str, str, Response, float], None]


def _access_line(method: str, path: str, response: Response, elapsed_ms: float) -> None:
    """One line per request: the function that answered it, cold or warm, and timings."""
    parts = [f"{method} {path} {response.status} {elapsed_ms:.0f} ms"]
    for report in response.invocations:
        state = f"cold, init {report.init_ms:.0f} ms" if report.init_ms is not None else "warm"
        parts.append(f"{report.function} {report.duration_ms:.0f} ms ({state})")
    access = {
        # What the function's log lines carry as ``correlation_id``: the two join on it.
        "request_id": next(
            (value for name, value in response.headers if name.lower() == "apigw-requestid"), None
        ),
        "method": method,
        "path": path,
        "status": response.status,
        "duration_ms": round(elapsed_ms, 2),
        "invocations": [
            {
                "function": report.function,
                "cold": report.cold,
                "duration_ms": round(report.duration_ms, 2),
                "init_duration_ms": None if report.init_ms is None else round(report.init_ms, 2),
            }
            for report in response.invocations
        ],
    }
    log.info(" | ".join(parts), extra={"access": access})


class GatewayApp:
    """The WSGI application: an HTTP request in, the gateway's response out (503 while there is
    no gateway yet: the port is bound before the stack behind it starts)."""

    def __init__(self, gateway: Gateway | None, access_log: AccessLog = _access_line) -> None:
        self.gateway = gateway
        self.access_log = access_log

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        if self.gateway is None:
            response = json_response(503, "Service Unavailable")
            length = ("Content-Length", str(len(response.body)))
            start_response(f"503 {_reason(503)}", [*response.headers, length])
            return [response.body]
        method = environ["REQUEST_METHOD"]
        raw_path, authority = _target(environ.get("REQUEST_URI", environ.get("PATH_INFO", "/")))
        headers = _headers(environ)
        if authority is not None:  # RFC 9112 §3.2.2: the target's authority is the host
            headers = [(k, v) for k, v in headers if k != "host"] + [("host", authority)]
        try:
            response = self.gateway.handle(
                method,
                raw_path,
                query=environ.get("QUERY_STRING", ""),
                headers=[*headers, *_forwarded(environ)],
                body=environ["wsgi.input"].read(),
                source_ip=environ.get("REMOTE_ADDR", ""),
            )
        except Exception:
            log.exception("gateway failure on %s %s", method, raw_path)
            response = json_response(500, "Internal Server Error")
        headers = [(k, v) for k, v in response.headers if k.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {_reason(response.status)}", headers)
        self.access_log(method, raw_path, response, (time.monotonic() - started) * 1000)
        return [b""] if method == "HEAD" else [response.body]


def _target(uri: str) -> tuple[str, str | None]:
    """The path of a request target (still percent-encoded), and its authority when the target
    is in absolute form (``http://host/path?query``)."""
    target = uri.partition("?")[0]
    scheme, separator, rest = target.partition("://")
    if not separator or "/" in scheme:
        return target, None
    authority, slash, path = rest.partition("/")
    return slash + path or "/", authority


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [
        (key[5:].replace("_", "-").lower(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_") and key not in ("HTTP_CONNECTION", "HTTP_TRANSFER_ENCODING")
    ]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers.append((name, str(environ[key])))
    return headers


def _forwarded(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers API Gateway adds for the integration."""
    return [
        ("x-forwarded-for", str(environ.get("REMOTE_ADDR", ""))),
        ("x-forwarded-port", str(environ.get("SERVER_PORT", ""))),
        ("x-forwarded-proto", "http"),
    ]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's refusal of a request it cannot parse, worded as API Gateway words it."""

    def execute(self) -> None:
        error = self.request.error
        status = error.code if error.code in KEPT_STATUSES else 400
        response = json_response(status, KEPT_STATUSES.get(status, "Bad Request"))
        self.status = f"{status} {_reason(status)}"
        self.response_headers.extend(response.headers)
        self.set_close_on_finish()
        self.content_length = len(response.body)
        self.write(response.body)
        method = getattr(self.request, "command", None) or "-"
        path = getattr(self.request, "path", None) or "-"  # unset when the request line was bad
        log.info("%s %s %s (refused: %s)", method, path, status, error.body)


class _Channel(HTTPChannel):  # type: ignore[misc]
    """A connection that remembers when its current request started to arrive."""

    error_task_class = _JsonErrorTask
    parser_class = StrictRequestParser
    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        received: bool = super().received(data)
        if self.request is None:
            self.request_started = None
        return received


class GatewayServer:
    """Serves a :class:`Gateway` on ``host:port`` until :meth:`shutdown`; the port is bound when
    the server is made, so a busy port fails before anything else starts (the gateway may come
    later, with :meth:`start`)."""

    def __init__(
        self,
        gateway: Gateway | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        client_timeout: float = 30.0,
        threads: int = 16,
    ) -> None:
        self.app = GatewayApp(gateway)
        self._server = create_server(
            self.app,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES + 1,  # waitress refuses from this size on
            max_request_header_size=MAX_HEADER_BYTES,
            channel_timeout=client_timeout,
            cleanup_interval=1,  # timeouts to the second
            connection_limit=connection_limit(),
            ident="samlocal",
            clear_untrusted_proxy_headers=False,
        )
        self._server.channel_class = _Channel
        sweep, accepting = self._server.maintenance, self._server.readable

        def maintenance(now: float) -> None:
            answer_stalled(self._server, now, client_timeout)
            sweep(now)

        def readable() -> bool:
            make_room(self._server)
            return bool(accepting())

        self._server.maintenance = maintenance
        self._server.readable = readable
        self._stopping = threading.Event()
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def start(self, gateway: Gateway) -> None:
        """Serves ``gateway`` in a daemon thread until :meth:`shutdown`."""
        self.app.gateway = gateway
        threading.Thread(target=self.serve_forever, name="gateway", daemon=True).start()

    def serve_forever(self) -> None:
        """Waitress's loop, one poll at a time, so that :meth:`shutdown` can end it cleanly."""
        self._running.set()
        try:
            while not self._stopping.is_set():
                self._server.asyncore.loop(timeout=0.2, map=self._server._map, count=1)
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Ends the loop, then closes the listening socket and open connections (again: none)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._running.is_set():
            self._stopped.wait(timeout=5)
        for dispatcher in list(self._server._map.values()):
            dispatcher.close()
        self._server.task_dispatcher.shutdown(timeout=1)
