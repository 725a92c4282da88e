"""The template's HTTP API as API Gateway reads it: routes, their authorizers, route selection.

Routes come from every function's ``Type: HttpApi`` events, authorizers from the APIs' ``Auth``
sections (read through :mod:`samlocal.template`). Selection follows API Gateway HTTP APIs
(docs/local.md): the most specific route wins, a greedy ``{proxy+}`` last, ``ANY``
after an explicit method; no match is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from samlocal.template import Template

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
    """The logical id behind ``FunctionArn: !GetAtt X.Arn`` or ``!Ref X.Alias`` (SAM's alias)."""
    if isinstance(arn, Mapping) and "Fn::GetAtt" in arn:
        target = arn["Fn::GetAtt"]
        return str(target.split(".", 1)[0] if isinstance(target, str) else target[0])
    if isinstance(arn, Mapping) and str(arn.get("Ref", "")).endswith(".Alias"):
        return str(arn["Ref"]).removesuffix(".Alias")
    raise ValueError(
        f"authorizer FunctionArn must be !GetAtt <Function>.Arn or !Ref <Function>.Alias "
        f"locally, not {arn}"
    )


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
    for event in template.function_events("HttpApi"):
        properties = event.properties
        api_ref = properties.get("ApiId")
        route_api = str(api_ref["Ref"]) if isinstance(api_ref, Mapping) else only_api
        authorizer = properties.get("Auth", {}).get("Authorizer", defaults.get(route_api))
        api.routes.append(
            Route(
                method=_method(properties.get("Method", "ANY")),
                path=str(properties.get("Path", "$default")),
                function=event.function,
                authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                api=route_api,
            )
        )
    return api


def _method(value: Any) -> str:
    method = str(value).upper()
    return "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD", "*") else method
