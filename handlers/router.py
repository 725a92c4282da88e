"""The API functions' router: routes, request validation, exception handlers and responses.

It keeps what the functions used of Powertools' ``APIGatewayHttpResolver`` with
``enable_validation=True`` (its decorators, ``<name>`` path parameters, its matching, its 422s and
its response format) without loading it: that package imports every resolver it has and its
OpenAPI machinery, ~60 ms of every API function's cold start. ``scripts/generate_openapi.py``
still documents the routes with Powertools' OpenAPI generator, from :attr:`Router.routes`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from handlers import content_types
from handlers.http_event import HttpEvent
from handlers.request_parameters import (
    Body,
    Header,
    Param,
    Path,
    Query,
    RequestParameters,
    RequestUnsupportedContentType,
    RequestValidationError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = [
    "Body",
    "Header",
    "NotFound",
    "Param",
    "Path",
    "Query",
    "RequestUnsupportedContentType",
    "RequestValidationError",
    "Response",
    "Route",
    "Router",
    "content_types",
]

T = TypeVar("T")
Handler = Callable[..., Any]
ExceptionHandler = Callable[[Any], "Response[Any]"]

# A ``<name>`` in a rule matches one path segment of these characters (as Powertools' does).
_SEGMENT = r"(?P<\1>[-._~()'!*:@,;=+&$%<> \[\]{}|^\\w]+)"


class NotFound(Exception):
    """No route of this function takes the request's method and path."""


class Response(Generic[T]):
    """What a route answers; a ``content_type`` is a ``Content-Type`` header unless one is set."""

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: T | None = None,
        headers: Mapping[str, str | list[str]] | None = None,
        cookies: list[str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str | list[str]] = dict(headers) if headers else {}
        self.cookies = cookies or []
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    def is_json(self) -> bool:
        content_type = self.headers.get("Content-Type", "")
        if isinstance(content_type, list):
            content_type = content_type[0]
        return content_type.startswith(content_types.APPLICATION_JSON)


@dataclass(frozen=True)
class Route:
    """One route: ``rule`` as written (``/users/<user_id>``); ``openapi`` holds the decorator's
    documentation arguments (``responses``, ``description``...) for the OpenAPI document."""

    method: str
    rule: str
    func: Handler
    openapi: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^{}$".format(re.sub(r"<(\w+)>", _SEGMENT, self.rule)))

    @cached_property
    def parameters(self) -> RequestParameters:
        return RequestParameters(self.func, self.rule)

    @property
    def dynamic(self) -> bool:
        return "<" in self.rule


class Router:
    """Routes of one API function, resolved per payload 2.0 event.

    Static routes are tried before those with ``<parameters>``, each in the order they were
    declared; a route's method must match. ``current_event`` is the request being handled."""

    current_event: HttpEvent
    lambda_context: LambdaContext

    def __init__(self, json_body_deserializer: Callable[[str], Any] = json.loads) -> None:
        self.routes: list[Route] = []
        self._json_body_deserializer = json_body_deserializer
        self._exception_handlers: dict[type[Exception], ExceptionHandler] = {}

    def route(self, rule: str, method: str, **openapi: Any) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            route = Route(method.upper(), rule, func, openapi)
            route.parameters  # noqa: B018 - a signature the router cannot read fails at import
            self.routes.append(route)
            return func

        return register

    def get(self, rule: str, **openapi: Any) -> Callable[[Handler], Handler]:
        return self.route(rule, "GET", **openapi)

    def post(self, rule: str, **openapi: Any) -> Callable[[Handler], Handler]:
        return self.route(rule, "POST", **openapi)

    def put(self, rule: str, **openapi: Any) -> Callable[[Handler], Handler]:
        return self.route(rule, "PUT", **openapi)

    def patch(self, rule: str, **openapi: Any) -> Callable[[Handler], Handler]:
        return self.route(rule, "PATCH", **openapi)

    def delete(self, rule: str, **openapi: Any) -> Callable[[Handler], Handler]:
        return self.route(rule, "DELETE", **openapi)

    def exception_handler(
        self, kinds: type[Exception] | list[type[Exception]]
    ) -> Callable[[ExceptionHandler], ExceptionHandler]:
        """Registers a handler answering for ``kinds`` (and their subclasses)."""

        def register(handler: ExceptionHandler) -> ExceptionHandler:
            for kind in kinds if isinstance(kinds, list) else [kinds]:
                self._exception_handlers[kind] = handler
            return handler

        return register

    def not_found(self, handler: Callable[[NotFound], Response[Any]]) -> None:
        self.exception_handler(NotFound)(handler)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = HttpEvent(event, self._json_body_deserializer)
        self.lambda_context = context
        try:
            response = self._call_route()
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            response = handler(error)
        return _serialize(response)

    def _call_route(self) -> Response[Any]:
        from handlers.request_arguments import bind

        method = self.current_event.http_method.upper()
        path = self.current_event.path
        for route in self._ordered_routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                arguments = bind(route.parameters, self.current_event, found.groupdict())
                return _to_response(route.func(**arguments))
        raise NotFound

    @cached_property
    def _ordered_routes(self) -> list[Route]:
        return [r for r in self.routes if not r.dynamic] + [r for r in self.routes if r.dynamic]

    def _handler_for(self, error: Exception) -> ExceptionHandler | None:
        for kind in type(error).__mro__:
            if kind in self._exception_handlers:
                return self._exception_handlers[kind]
        if isinstance(error, NotFound):
            return _default_not_found
        return None


def _default_not_found(error: NotFound) -> Response[Any]:
    return Response(
        HTTPStatus.NOT_FOUND,
        content_types.APPLICATION_JSON,
        {"statusCode": HTTPStatus.NOT_FOUND, "message": "Not found"},
    )


def _to_response(result: Any) -> Response[Any]:
    """A route may return a Response, a JSON-able value (200), or ``(value, status)``."""
    if isinstance(result, Response):
        return result
    status = HTTPStatus.OK
    if isinstance(result, tuple) and len(result) == 2:
        result, status = result
    return Response(status, content_types.APPLICATION_JSON, result)


def _json_default(value: Any) -> Any:
    """What JSON cannot hold (a model, a datetime...) as pydantic writes it in JSON mode."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


def _serialize(response: Response[Any]) -> dict[str, Any]:
    """The payload 2.0 response: JSON bodies serialised compactly, bytes base64-encoded,
    a header's several values joined with ", "."""
    body = response.body
    if response.is_json() and not isinstance(body, str):
        body = json.dumps(body, separators=(",", ":"), default=_json_default)
    encoded = isinstance(body, bytes)
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode()
    headers = {
        name: value if isinstance(value, str) else ", ".join(value)
        for name, value in response.headers.items()
        if value is not None
    }
    return {
        "statusCode": response.status_code,
        "body": body,
        "isBase64Encoded": encoded,
        "headers": headers,
        "cookies": [str(cookie) for cookie in response.cookies],
    }
