"""CORS as an HTTP API with a ``CorsConfiguration`` applies it (docs/local.md).

API Gateway answers a preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) itself with 204: no route, no authorizer, no function. To any
other request carrying an allowed ``Origin`` it adds ``Access-Control-Allow-Origin`` (and the
exposed headers, credentials flag); CORS headers the function returned are dropped. Without a
configuration nothing changes. It runs as the gateway's middleware (``cors_middleware``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from samlocal.apigateway.gateway import Handler, Middleware, Request
from samlocal.apigateway.responses import Response
from samlocal.intrinsics import NO_VALUE, Resolver
from samlocal.template import Template

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class CorsConfiguration:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_property(cls, value: Any) -> CorsConfiguration | None:
        """From a resolved ``CorsConfiguration`` (``true`` allows every origin, like SAM)."""
        if value is True:
            return cls(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
        if not isinstance(value, Mapping):
            return None
        origins = tuple(str(o) for o in value.get("AllowOrigins", ()) if o)
        if not origins:
            return None
        max_age = value.get("MaxAge")
        return cls(
            allow_origins=origins,
            allow_methods=tuple(str(m).upper() for m in value.get("AllowMethods", ())),
            allow_headers=tuple(str(h) for h in value.get("AllowHeaders", ())),
            expose_headers=tuple(str(h) for h in value.get("ExposeHeaders", ())),
            max_age=None if max_age is None else int(max_age),
            allow_credentials=bool(value.get("AllowCredentials", False)),
        )

    def allowed_origin(self, origin: str) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, None if not allowed."""
        for allowed in self.allow_origins:
            if allowed == "*":
                return "*"
            if allowed == origin or (allowed.endswith("://*") and origin.startswith(allowed[:-1])):
                return origin
        return None

    def preflight(self, method: str, headers: Iterable[tuple[str, str]]) -> Headers | None:
        """The headers of API Gateway's own 204 when this is a preflight, else None."""
        request = _lower(headers)
        if method != "OPTIONS" or not request.get("origin"):
            return None
        if not request.get("access-control-request-method"):
            return None
        origin = self.allowed_origin(request["origin"])
        if origin is None:
            return []
        answer = [("Access-Control-Allow-Origin", origin)]
        if self.allow_methods:
            answer.append(("Access-Control-Allow-Methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            answer.append(("Access-Control-Allow-Headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            answer.append(("Access-Control-Max-Age", str(self.max_age)))
        if self.allow_credentials:
            answer.append(("Access-Control-Allow-Credentials", "true"))
        return answer

    def response_headers(
        self, request_headers: Iterable[tuple[str, str]], response_headers: Headers
    ) -> Headers:
        """The function's response headers as the client receives them: without its own CORS
        headers, with the configured ones when the request's origin is allowed."""
        kept = [(n, v) for n, v in response_headers if not n.lower().startswith("access-control-")]
        origin = self.allowed_origin(_lower(request_headers).get("origin", ""))
        if origin is None:
            return kept
        kept.append(("Access-Control-Allow-Origin", origin))
        if self.expose_headers:
            kept.append(("Access-Control-Expose-Headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            kept.append(("Access-Control-Allow-Credentials", "true"))
        return kept


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def cors_from_template(template: Template, resolver: Resolver) -> CorsConfiguration | None:
    """The CORS configuration of the template's HTTP API, resolved with the stack's values."""
    for resource in template.of_type("AWS::Serverless::HttpApi").values():
        value = resolver.resolve(resource.get("Properties", {}).get("CorsConfiguration"))
        if value is not NO_VALUE:
            return CorsConfiguration.from_property(value)
    return None


def cors_middleware(config: CorsConfiguration) -> Middleware:
    """API Gateway's CORS around every route: preflights answered here, headers added after."""

    def apply(request: Request, call_next: Handler) -> Response:
        preflight = config.preflight(request.method, request.headers)
        if preflight is not None:
            return Response(204, preflight, b"")
        response = call_next(request)
        response.headers = config.response_headers(request.headers, response.headers)
        return response

    return apply
