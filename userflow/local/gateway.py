"""The local HTTP API: routes, Lambda authorizer and payload 2.0 mapping, read from the template.

It answers as API Gateway HTTP APIs do (see /work/shared/AWS-NOTES.md): the most specific route
wins, no route → 404, a protected route without its identity source → 401 without calling the
authorizer, a denying authorizer → 403, any function error → 500 with no detail for the client.
Like HTTP APIs, it percent-decodes the path once before routing: that decoded path is the event's
``rawPath`` and the source of its ``pathParameters``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from userflow.local.cors import CorsConfiguration
from userflow.local.http_event import build_http_event
from userflow.local.invoke import FunctionError
from userflow.local.template import ACCOUNT_ID, Template

log = logging.getLogger("userflow-local")

Invoke = Callable[[str, Any], Any]
"""``invoke(logical_id, event) -> result``; raises on a function error."""
Headers = list[tuple[str, str]]

_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Route:
    """One ``Type: HttpApi`` event of a function."""

    method: str
    path: str
    function: str
    authorizer: str | None
    api: str | None = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/") if self.path.strip("/") else []

    def rank(self) -> tuple[tuple[int, ...], int]:
        """Sorts most specific first: literal < {param} < {proxy+} per segment, then ANY last."""
        kinds = tuple(_segment_kind(segment) for segment in self.segments)
        if self.path == "$default":
            kinds = (_GREEDY + 1,)
        return kinds, int(self.method == "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route takes the request, else None."""
        if self.method not in ("ANY", method):
            return None
        if self.path == "$default":
            return {}
        parts = path.strip("/").split("/") if path.strip("/") else []
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            kind = _segment_kind(segment)
            if kind == _GREEDY:
                rest = parts[index:]
                parameters[segment[1:-2]] = "/".join(rest)
                return parameters if rest and all(rest) else None
            part = parts[index] if index < len(parts) else ""
            if not part or (kind == _LITERAL and segment != part):
                return None
            if kind == _PARAMETER:
                parameters[segment[1:-1]] = part
        return parameters if len(parts) == len(self.segments) else None


def _segment_kind(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return _GREEDY
    if segment.startswith("{") and segment.endswith("}"):
        return _PARAMETER
    return _LITERAL


def match_route(
    routes: Iterable[Route], method: str, path: str
) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick, with its path parameters; None → 404."""
    candidates = []
    for route in routes:
        parameters = route.match(method, path)
        if parameters is not None:
            candidates.append((route.rank(), route, parameters))
    if not candidates:
        return None
    _, route, parameters = min(candidates, key=lambda candidate: candidate[0])
    return route, parameters


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer of an ``AWS::Serverless::HttpApi``."""

    name: str
    function: str
    identity_headers: tuple[str, ...] = ()
    identity_query: tuple[str, ...] = ()
    ttl_seconds: int = 0
    simple_responses: bool = True


def _function_of(arn: Any) -> str:
    """The logical id behind ``FunctionArn: !GetAtt X.Arn``."""
    if isinstance(arn, Mapping) and "Fn::GetAtt" in arn:
        target = arn["Fn::GetAtt"]
        return str(target.split(".", 1)[0] if isinstance(target, str) else target[0])
    raise ValueError(f"authorizer FunctionArn must be !GetAtt <Function>.Arn locally, not {arn}")


@dataclass
class Api:
    """Routes and authorizers of the template's HTTP API(s)."""

    routes: list[Route] = field(default_factory=list)
    authorizers: dict[tuple[str | None, str], Authorizer] = field(default_factory=dict)
    stage: str = "$default"


def api_from_template(template: Template) -> Api:
    """Reads every ``HttpApi`` event and the APIs' ``Auth`` sections."""
    api = Api()
    apis = template.of_type("AWS::Serverless::HttpApi")
    defaults: dict[str | None, str | None] = {}
    for api_id, resource in apis.items():
        properties = resource.get("Properties", {})
        stage = properties.get("StageName")
        api.stage = stage if isinstance(stage, str) else "$default"
        auth = properties.get("Auth", {})
        defaults[api_id] = auth.get("DefaultAuthorizer")
        for name, spec in auth.get("Authorizers", {}).items():
            if "FunctionArn" not in spec:
                continue  # a JWT authorizer: not run locally
            identity = spec.get("Identity", {})
            api.authorizers[(api_id, name)] = Authorizer(
                name=name,
                function=_function_of(spec["FunctionArn"]),
                identity_headers=tuple(identity.get("Headers", ())),
                identity_query=tuple(identity.get("QueryStrings", ())),
                ttl_seconds=int(identity.get("ReauthorizeEvery", 0)),
                simple_responses=bool(spec.get("EnableSimpleResponses", False)),
            )
    only_api = next(iter(apis)) if len(apis) == 1 else None
    for logical_id in template.of_type("AWS::Serverless::Function"):
        events = template.resources[logical_id].get("Properties", {}).get("Events", {})
        for event in events.values():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties", {})
            api_ref = properties.get("ApiId")
            route_api = str(api_ref["Ref"]) if isinstance(api_ref, Mapping) else only_api
            authorizer = properties.get("Auth", {}).get("Authorizer", defaults.get(route_api))
            api.routes.append(
                Route(
                    method=_method(properties.get("Method", "ANY")),
                    path=str(properties.get("Path", "$default")),
                    function=logical_id,
                    authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                    api=route_api,
                )
            )
    return api


def _method(value: Any) -> str:
    method = str(value).upper()
    return "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD", "*") else method


@dataclass
class Response:
    status: int
    headers: Headers
    body: bytes


def json_response(status: int, message: str) -> Response:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def map_function_result(result: Any) -> Response:
    """Turns a payload 2.0 function result into the HTTP response API Gateway sends."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        body = json.dumps(result).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    headers: Headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
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


class Gateway:
    """Turns HTTP requests into function invocations as API Gateway does."""

    def __init__(
        self,
        api: Api,
        invoke: Invoke,
        *,
        region: str,
        api_id: str = "local",
        cors: CorsConfiguration | None = None,
    ) -> None:
        self.api = api
        self.cors = cors
        self.invoke = invoke
        self.region = region
        self.api_id = api_id
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any] | None]] = {}
        self._cache_lock = threading.Lock()

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
        route = functools.partial(
            self._route, method, path, query=query, headers=headers or [], body=body
        )
        if self.cors is None:
            return route(source_ip=source_ip)
        preflight = self.cors.preflight(method, headers or [])
        if preflight is not None:
            return Response(204, preflight, b"")
        response = route(source_ip=source_ip)
        response.headers = self.cors.response_headers(headers or [], response.headers)
        return response

    def _route(
        self,
        method: str,
        path: str,
        *,
        query: str,
        headers: Headers,
        body: bytes,
        source_ip: str,
    ) -> Response:
        path = unquote(path)
        found = match_route(self.api.routes, method, path)
        if found is None:
            return json_response(404, "Not Found")
        route, parameters = found
        event = build_http_event(
            method,
            path,
            route_key=route.route_key,
            raw_query=query,
            headers=headers or [],
            body=body,
            path_parameters=parameters,
            source_ip=source_ip,
            stage=self.api.stage,
        )
        if route.authorizer is not None:
            authorizer = self.api.authorizers.get((route.api, route.authorizer))
            if authorizer is None:
                log.error("route %s names unknown authorizer %s", route.route_key, route.authorizer)
                return json_response(500, "Internal Server Error")
            denied, context = self._authorize(authorizer, route, event)
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

    def _authorize(
        self, authorizer: Authorizer, route: Route, event: dict[str, Any]
    ) -> tuple[Response | None, dict[str, Any] | None]:
        headers = event["headers"]
        query = event.get("queryStringParameters", {})
        identity = [headers.get(name.lower(), "") for name in authorizer.identity_headers]
        identity += [query.get(name, "") for name in authorizer.identity_query]
        if not all(identity):
            return json_response(401, "Unauthorized"), None
        key = (authorizer.name, tuple(identity))
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            context = cached[1]
        else:
            try:
                context = self._call_authorizer(authorizer, route, event, identity)
            except FunctionError:
                return json_response(500, "Internal Server Error"), None
            except Exception:
                log.exception("authorizer %s answered something unusable", authorizer.name)
                return json_response(500, "Internal Server Error"), None
            if authorizer.ttl_seconds > 0:
                with self._cache_lock:
                    self._cache[key] = (now + authorizer.ttl_seconds, context)
        if context is None:
            return json_response(403, "Forbidden"), None
        return None, context

    def _call_authorizer(
        self, authorizer: Authorizer, route: Route, event: dict[str, Any], identity: list[str]
    ) -> dict[str, Any] | None:
        """The authorizer's context when it allows, None when it denies."""
        request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        method = event["requestContext"]["http"]["method"]
        request |= {
            "type": "REQUEST",
            "routeArn": (
                f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{self.api_id}/"
                f"{self.api.stage}/{method}{event['rawPath']}"
            ),
            "identitySource": identity,
        }
        result = self.invoke(authorizer.function, request)
        if not isinstance(result, Mapping):
            raise TypeError("authorizer result is not an object")
        if authorizer.simple_responses:
            allowed = result.get("isAuthorized") is True
        else:
            statements = result.get("policyDocument", {}).get("Statement", [])
            effects = {statement.get("Effect") for statement in statements}
            allowed = "Allow" in effects and "Deny" not in effects
        context = result.get("context") or {}
        if not isinstance(context, Mapping):
            raise TypeError("authorizer context is not an object")
        return dict(context) if allowed else None


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
            headers = [
                (name, value)
                for name, value in self.headers.items()
                if name.lower() not in ("transfer-encoding", "connection")
            ]
            headers += [
                ("X-Forwarded-For", self.client_address[0]),
                ("X-Forwarded-Port", str(self.server.server_address[1])),
                ("X-Forwarded-Proto", "http"),
            ]
            response = self.server.gateway.handle(
                self.command,
                path,
                query=query,
                headers=headers,
                body=body,
                source_ip=self.client_address[0],
            )
        except Exception:
            log.exception("gateway failure on %s %s", self.command, path)
            response = json_response(500, "Internal Server Error")
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        log.info(
            "%s %s -> %s (%.0f ms)",
            self.command,
            path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        """Any other method (QUERY, PROPFIND, ...) is routed too: API Gateway answers 404."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged by _serve, with their status and latency."""


class GatewayServer(ThreadingHTTPServer):
    """The HTTP listener in front of a :class:`Gateway`."""

    daemon_threads = True

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.gateway = gateway
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
