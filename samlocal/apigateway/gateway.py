"""One request through the local HTTP API: middleware, route, authorizer, function, response.

It answers as API Gateway HTTP APIs do (docs/local.md): no route → 404, a
protected route without its identity source → 401 without calling the authorizer, a denying
authorizer → 403, any function error → 500 with no detail for the client. Like HTTP APIs, it
percent-decodes the path once before routing: that decoded path is the event's ``rawPath`` and
the source of its ``pathParameters``.

Middleware sees every request before routing and every response after it: the place for what API
Gateway does around routes (CORS preflight and headers, say), as ``(request, call_next) ->
response``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from samlocal.apigateway.authorizer import Authorizers
from samlocal.apigateway.events import build_http_event
from samlocal.apigateway.responses import Headers, Response, json_response, map_function_result
from samlocal.apigateway.routes import Api, match_route
from samlocal.functions import FunctionError, Invoke
from samlocal.functions.reports import collecting_reports

log = logging.getLogger("samlocal")


@dataclass(frozen=True)
class Request:
    """An HTTP request as the gateway receives it (path still percent-encoded)."""

    method: str
    path: str
    query: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """The event's ``requestContext.requestId``, sent back as ``apigw-requestid``."""


Handler = Callable[[Request], Response]
Middleware = Callable[[Request, Handler], Response]
"""``middleware(request, call_next)``: answer itself, or call ``call_next`` and adjust."""


def _wrap(layer: Middleware, call_next: Handler) -> Handler:
    return lambda request: layer(request, call_next)


class Gateway:
    """Turns HTTP requests into function invocations as API Gateway does."""

    def __init__(
        self,
        api: Api,
        invoke: Invoke,
        *,
        region: str,
        api_id: str = "local",
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self.api = api
        self.invoke = invoke
        self.authorizers = Authorizers(invoke, region=region, api_id=api_id, stage=api.stage)
        self._pipeline: Handler = self._route
        for layer in reversed(middleware):
            self._pipeline = _wrap(layer, self._pipeline)

    def handle(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Headers | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> Response:
        """Every response carries ``apigw-requestid``, the event's ``requestContext.requestId``,
        as API Gateway HTTP APIs send it (callers match it to ``correlation_id``)."""
        request = Request(method, path, query, headers or [], body, source_ip)
        with collecting_reports() as reports:
            response = self._pipeline(request)
        response.invocations = reports
        response.headers.append(("apigw-requestid", request.request_id))
        return response

    def _route(self, request: Request) -> Response:
        path = unquote(request.path)
        found = match_route(self.api.routes, request.method, path)
        if found is None:
            return json_response(404, "Not Found")
        route, parameters = found
        event = build_http_event(
            request.method,
            path,
            route_key=route.route_key,
            raw_query=request.query,
            headers=request.headers,
            body=request.body,
            path_parameters=parameters,
            source_ip=request.source_ip,
            stage=self.api.stage,
        )
        event["requestContext"]["requestId"] = request.request_id
        if route.authorizer is not None:
            authorizer = self.api.authorizers.get((route.api, route.authorizer))
            if authorizer is None:
                log.error("route %s names unknown authorizer %s", route.route_key, route.authorizer)
                return json_response(500, "Internal Server Error")
            denied, context = self.authorizers.authorize(authorizer, route, event)
            if denied is not None:
                return denied
            event["requestContext"]["authorizer"] = {"lambda": context or {}}
        try:
            return map_function_result(self.invoke(route.function, event))
        except FunctionError:
            return json_response(500, "Internal Server Error")
        except Exception:
            log.exception("cannot map the response of %s", route.function)
            return json_response(500, "Internal Server Error")
