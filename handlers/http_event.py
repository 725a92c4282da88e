"""The HTTP API (payload format 2.0) request event, read the way handlers read it.

Attribute names follow Powertools' ``APIGatewayProxyEventV2`` (``app.current_event`` keeps its
meaning), without loading Powertools' data classes package (every event source's classes).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any


class _View(Mapping[str, Any]):
    """Read-only view of one part of the event."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        self._data: Mapping[str, Any] = data or {}

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def raw_event(self) -> Mapping[str, Any]:
        return self._data


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively (API Gateway sends them lower-cased)."""

    def __init__(self, headers: Mapping[str, str] | None) -> None:
        self._headers = {str(name).lower(): value for name, value in (headers or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


class Authorizer(_View):
    @property
    def get_lambda(self) -> dict[str, Any] | None:
        """The Lambda authorizer's context (``authorizer.lambda``)."""
        found = self.get("lambda")
        return dict(found) if isinstance(found, Mapping) else None


class HttpContext(_View):
    @property
    def method(self) -> str:
        return str(self["method"])

    @property
    def path(self) -> str:
        return str(self["path"])

    @property
    def protocol(self) -> str:
        return str(self["protocol"])

    @property
    def source_ip(self) -> str:
        return str(self["sourceIp"])

    @property
    def user_agent(self) -> str:
        return str(self.get("userAgent", ""))


class RequestContext(_View):
    @property
    def authorizer(self) -> Authorizer:
        return Authorizer(self.get("authorizer"))

    @property
    def http(self) -> HttpContext:
        return HttpContext(self["http"])

    @property
    def domain_name(self) -> str:
        return str(self["domainName"])

    @property
    def request_id(self) -> str:
        return str(self["requestId"])

    @property
    def route_key(self) -> str:
        return str(self["routeKey"])

    @property
    def stage(self) -> str:
        return str(self.get("stage", "$default"))

    @property
    def time_epoch(self) -> int:
        return int(self["timeEpoch"])


class HttpEvent(_View):
    """One request; ``json_body`` is parsed once, by the router's deserializer."""

    def __init__(self, event: Mapping[str, Any], json_deserializer: Callable[[str], Any]) -> None:
        super().__init__(event)
        self._json_deserializer = json_deserializer

    @property
    def request_context(self) -> RequestContext:
        return RequestContext(self["requestContext"])

    @cached_property
    def headers(self) -> Headers:
        return Headers(self.get("headers"))

    @property
    def query_string_parameters(self) -> dict[str, str]:
        return dict(self.get("queryStringParameters") or {})

    @property
    def path_parameters(self) -> dict[str, str]:
        return dict(self.get("pathParameters") or {})

    @property
    def cookies(self) -> list[str]:
        return list(self.get("cookies") or [])

    @property
    def raw_path(self) -> str:
        return str(self["rawPath"])

    @property
    def raw_query_string(self) -> str:
        return str(self.get("rawQueryString") or "")

    @property
    def path(self) -> str:
        """The path without the stage's prefix (a named stage's URLs start with it)."""
        stage = self.request_context.stage
        if stage != "$default":
            return self.raw_path[len("/" + stage) :]
        return self.raw_path

    @property
    def http_method(self) -> str:
        return self.request_context.http.method

    @property
    def is_base64_encoded(self) -> bool:
        return bool(self.get("isBase64Encoded"))

    @property
    def body(self) -> str | None:
        found = self.get("body")
        return None if found is None else str(found)

    @cached_property
    def decoded_body(self) -> str | None:
        body = self.body
        if self.is_base64_encoded and body:
            return base64.b64decode(body.encode()).decode()
        return body

    @cached_property
    def json_body(self) -> Any:
        """The body parsed as JSON; None without a body."""
        if self.decoded_body:
            return self._json_deserializer(self.decoded_body)
        return None
