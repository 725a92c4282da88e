"""The embedded AWS emulation: moto's server app on loopback, with optional fault injection.

``--fail-rate putevents=0.3`` makes that share of PutEvents *entries* fail the way EventBridge
reports it: the response keeps request order, failed entries carry ``ErrorCode``/``ErrorMessage``,
``FailedEntryCount`` counts them, and only the other entries are really put. It is a WSGI
middleware around moto's app, so every client (functions, CLI, tests) sees the same behaviour.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("userflow-local")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

SUPPORTED_FAULTS = {"putevents": "AWSEvents.PutEvents"}
"""Operation key (service prefix optional, case and dashes ignored) → X-Amz-Target it fails."""
MAX_PUT_EVENTS_ENTRIES = 10


def parse_fail_rates(text: str | None) -> dict[str, float]:
    """``"putevents=0.3,events-putevents=0.1"`` → ``{"putevents": 0.1}``; raises ValueError."""
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, separator, value = item.partition("=")
        if not separator:
            raise ValueError(f"expected service-op=rate, got {item!r}")
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        operation = next((op for op in SUPPORTED_FAULTS if key in (op, f"events{op}")), None)
        if operation is None:
            raise ValueError(f"cannot inject failures into {name!r}; supported: putevents")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {name!r} must be between 0 and 1")
        rates[operation] = rate
    return rates


class FaultInjector:
    """WSGI middleware that fails a share of PutEvents entries before moto sees them."""

    def __init__(self, app: WsgiApp, rates: dict[str, float], rng: random.Random | None = None):
        self.app = app
        self.rates = rates
        self.rng = rng or random.Random()  # noqa: S311 - fault injection, not security

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        rate = self.rates.get("putevents", 0.0)
        if target != SUPPORTED_FAULTS["putevents"] or rate <= 0:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        entries = request.get("Entries") or []
        if not 0 < len(entries) <= MAX_PUT_EVENTS_ENTRIES:
            # EventBridge refuses such a request whole before looking at any entry.
            return self._forward(environ, request, start_response)
        failed = [self.rng.random() < rate for _ in entries]
        kept = [entry for entry, fail in zip(entries, failed, strict=True) if not fail]
        results: list[dict[str, Any]] = []
        status, headers = "200 OK", [("Content-Type", "application/x-amz-json-1.1")]
        if kept:
            status, headers, body = self._call(environ, {**request, "Entries": kept})
            if not status.startswith("200"):
                start_response(status, headers)
                return [body]
            results = json.loads(body)["Entries"]
        merged: list[dict[str, Any]] = []
        for fail in failed:
            if fail:
                merged.append(
                    {
                        "ErrorCode": "InternalFailure",
                        "ErrorMessage": "Injected failure (userflow local --fail-rate)",
                    }
                )
            else:
                merged.append(results.pop(0))
        log.info("fail-rate: failed %d of %d PutEvents entries", sum(failed), len(entries))
        response = {
            "FailedEntryCount": sum("ErrorCode" in entry for entry in merged),
            "Entries": merged,
        }
        payload = json.dumps(response).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _forward(
        self, environ: Environ, request: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Passes the (already read) request to moto untouched."""
        status, headers, body = self._call(environ, request)
        start_response(status, headers)
        return [body]

    def _call(
        self, environ: Environ, request: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        body = json.dumps(request).encode()
        inner = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            captured["status"], captured["headers"] = status, headers

        chunks = self.app(inner, capture)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return captured["status"], captured["headers"], payload


class MotoServer:
    """moto's server app in a thread on loopback, optionally behind the fault injector."""

    def __init__(
        self,
        port: int = 0,
        fail_rates: dict[str, float] | None = None,
        seed: int | None = None,
        mail_journal: Path | None = None,
    ) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any) -> None:
                """Every AWS call would be a line of noise in `userflow local`'s output."""

        app: WsgiApp = DomainDispatcherApplication(create_backend_app)
        if fail_rates:
            app = FaultInjector(app, fail_rates, random.Random(seed))  # noqa: S311
        if mail_journal is not None:
            from userflow.local.mail_journal import MailJournal

            app = MailJournal(app, mail_journal)
        self._server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
