"""Builds API Gateway HTTP API payload format 2.0 events, exactly as AWS shapes them."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
"""Bodies HTTP APIs pass as text; any other (form posts, no Content-Type) arrives base64-encoded."""


def _join_repeated(pairs: Iterable[tuple[str, str]], lower: bool) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def build_http_event(
    method: str,
    path: str,
    *,
    route_key: str,
    raw_query: str = "",
    headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    body: bytes | None = None,
    path_parameters: Mapping[str, str] | None = None,
    authorizer_context: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
) -> dict[str, Any]:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    header_map = _join_repeated(((n, v) for n, v in pairs if n.lower() != "cookie"), lower=True)
    # API Gateway tells functions the scheme the client used; locally that is plain HTTP.
    header_map.setdefault("x-forwarded-proto", "http")
    # API Gateway tells functions the scheme the client used; locally that is plain HTTP.
    header_map.setdefault("x-forwarded-proto", "http")
    # One entry per cookie, however many Cookie headers carried them (the HTTP server joins
    # repeated headers with ", "; a cookie value holds neither ";" nor ",": RFC 6265).
    cookies = [
        c.strip()
        for n, v in pairs
        if n.lower() == "cookie"
        for c in re.split(r"[;,]", v)
        if c.strip()
    ]
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": header_map.get("host", "localhost"),
        "domainPrefix": header_map.get("host", "localhost").split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": header_map.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": stage,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(time.time() * 1000),
    }
    if authorizer_context is not None:
        request_context["authorizer"] = {"lambda": dict(authorizer_context)}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        event["queryStringParameters"] = _join_repeated(
            parse_qsl(raw_query, keep_blank_values=True), lower=False
        )
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        content_type = header_map.get("content-type", "").lower()
        if content_type.startswith(TEXT_TYPES):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event
