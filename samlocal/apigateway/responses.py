"""HTTP responses as API Gateway sends them: a function's payload 2.0 result, or its own errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from samlocal.functions.reports import InvocationReport

Headers = list[tuple[str, str]]


@dataclass
class Response:
    """What the client gets, plus the invocations that made it (for the access line)."""

    status: int
    headers: Headers
    body: bytes
    invocations: list[InvocationReport] = field(default_factory=list)


def json_response(status: int, message: str) -> Response:
    """API Gateway's own answers: ``{"message": ...}`` as compact JSON."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def map_function_result(result: Any) -> Response:
    """Turns a payload 2.0 function result into the HTTP response API Gateway sends."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        # The output is the body: a string as it is, anything else as JSON.
        body = result.encode() if isinstance(result, str) else json.dumps(result).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    # Payload 2.0 has no multiValueHeaders (API Gateway ignores them): repeated values are
    # comma-joined in `headers`, cookies go in `cookies`.
    headers: Headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())
    raw = result.get("body")
    text = raw if isinstance(raw, str) or raw is None else json.dumps(raw)
    if text is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(text)
    else:
        body = text.encode()
    return Response(int(result["statusCode"]), headers, body)
