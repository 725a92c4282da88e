"""Fails a share of PutEvents *entries* the way EventBridge reports it (the fail rates).

The response keeps request order, failed entries carry ``ErrorCode``/``ErrorMessage``,
``FailedEntryCount`` counts them, and only the other entries are really put. It is a WSGI
middleware around moto's app, so every client (functions, CLI, tests) sees the same behaviour.
"""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterable
from typing import Any

from samlocal.faults.rates import FAULT_TARGETS, FailRates
from samlocal.wsgi import Environ, StartResponse, WsgiApp

log = logging.getLogger("samlocal")

MAX_PUT_EVENTS_ENTRIES = 10


class FaultInjector:
    """WSGI middleware that fails a share of PutEvents entries before moto sees them."""

    def __init__(
        self, app: WsgiApp, rates: FailRates | dict[str, float], rng: random.Random | None = None
    ):
        self.app = app
        self.rates = rates if isinstance(rates, FailRates) else FailRates(rates)
        self.rng = rng or random.Random()  # noqa: S311 - fault injection, not security

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        rate = self.rates.current().get("putevents", 0.0)
        if target != FAULT_TARGETS["putevents"] or rate <= 0:
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
                        "ErrorMessage": "Injected failure (local fault injection)",
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
