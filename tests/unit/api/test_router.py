"""The router reads requests as Powertools' resolver did, for the parameter forms API functions
use (today's routes are proven by tests/integration/api/test_api_refusals.py): the same routes, in
front of both, answer a battery of requests identically."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler import Response as PowertoolsResponse
from aws_lambda_powertools.event_handler.openapi.params import Query as PowertoolsQuery
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from handlers.router import (
    Body,
    Header,
    Query,
    RequestUnsupportedContentType,
    RequestValidationError,
    Response,
    Router,
    content_types,
)
from scripts.generate_openapi import powertools_resolver


class Reauthentication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=20)]


class Rename(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    tags: list[str] = []


def summary(**arguments: Any) -> dict[str, Any]:
    """What a route got, as JSON."""
    return {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in arguments.items()
    }


def routes(app: Router | APIGatewayHttpResolver) -> None:
    """Routes in every form the API functions use, on ``app`` (ours or Powertools')."""

    @app.post("/optional-body")
    def optional_body(
        request: Annotated[Reauthentication | SkipJsonSchema[None], Body()] = None,
    ) -> Any:
        return summary(request=request)

    @app.delete("/items/<item_id>")
    def delete_item(
        item_id: str, request: Annotated[Reauthentication | None, Body()] = None
    ) -> Any:
        return summary(item_id=item_id, request=request)

    @app.patch("/items/<item_id>")
    def rename(
        item_id: str,
        body: Rename,
        if_match: Annotated[
            Annotated[str, StringConstraints(pattern=r"^\"[0-9]+\"$")] | SkipJsonSchema[None],
            Header(alias="if-match"),
        ] = None,
    ) -> Any:
        return summary(item_id=item_id, body=body, if_match=if_match), 201

    @app.get("/items")
    def list_items(
        limit: Annotated[int, Query(ge=1, le=10)] = 5,
        tag: Annotated[str | None, Query(max_length=3)] = None,
        x_trace_id: Annotated[str | None, Header()] = None,
    ) -> Any:
        return summary(limit=limit, tag=tag, x_trace_id=x_trace_id)

    @app.post("/embedded")
    def embedded(first: Annotated[Rename, Body(embed=True)]) -> Any:
        return summary(first=first)

    @app.post("/two-bodies")
    def two_bodies(rename: Rename, reauthentication: Reauthentication) -> Any:
        return summary(rename=rename, reauthentication=reauthentication)

    @app.get("/numbers/<number>")
    def number(number: int) -> Any:
        return summary(number=number)

    @app.get("/items/static")
    def static() -> Any:
        return ["static", "before", "dynamic"]


def errors_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]}


def ours() -> Router:
    app = Router()
    routes(app)

    def refuse(error: RequestValidationError) -> Response[Any]:
        return Response(422, content_types.APPLICATION_JSON, errors_body(error.errors()))

    app.exception_handler(RequestValidationError)(refuse)
    app.exception_handler(RequestUnsupportedContentType)(lambda _: Response(415))
    app.not_found(lambda _: Response(404, content_types.APPLICATION_JSON, {"message": "none"}))
    return app


def powertools() -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestUnsupportedContentType as Unsupported,
    )
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestValidationError as Invalid,
    )

    app = Router()
    routes(app)
    resolver = powertools_resolver(app)

    def refuse(error: Invalid) -> PowertoolsResponse[Any]:
        return PowertoolsResponse(422, "application/json", errors_body(list(error.errors())))

    resolver.exception_handler(Invalid)(refuse)
    resolver.exception_handler(Unsupported)(lambda _: PowertoolsResponse(415))
    resolver.exception_handler(NotFoundError)(
        lambda _: PowertoolsResponse(404, "application/json", {"message": "none"})
    )
    return resolver


BODIES = [
    None,
    "",
    "{",
    "null",
    "[]",
    "[{}]",
    '"x"',
    "{}",
    '{"current_password": "pw"}',
    '{"current_password": ""}',
    '{"current_password": 5, "extra": 1}',
    '{"name": "ok"}',
    '{"name": "much too long a name", "tags": "x"}',
    '{"name": "ok", "tags": ["a", 1]}',
    '{"first": {"name": "ok"}}',
    '{"first": null}',
    '{"rename": {"name": "ok"}, "reauthentication": {"current_password": "pw"}}',
    '{"rename": {}, "reauthentication": 5}',
]
TARGETS = [
    ("POST", "/optional-body", ""),
    ("DELETE", "/items/a1", ""),
    ("PATCH", "/items/a1", ""),
    ("POST", "/embedded", ""),
    ("POST", "/two-bodies", ""),
    ("PUT", "/items/a1", ""),
]
GETS = [
    "/items",
    "/items?limit=3",
    "/items?limit=0",
    "/items?limit=x&tag=abcd",
    "/items?limit=1&limit=2",
    "/items?tag=a,b",
    "/items?tag=a&tag=b",
    "/items/static",
    "/numbers/7",
    "/numbers/seven",
    "/numbers/",
    "/nowhere",
]
HEADERS: list[dict[str, str]] = [
    {},
    {"if-match": '"3"'},
    {"If-Match": "garbage"},
    {"x-trace-id": "abc"},
    {"X-Trace-Id": "a,b"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"content-type": "text/plain"},
]


def event(method: str, target: str, headers: dict[str, str], body: str | None) -> dict[str, Any]:
    path, _, query = target.partition("?")
    parameters: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    request: dict[str, Any] = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "isBase64Encoded": False,
    }
    if parameters:
        request["queryStringParameters"] = parameters
    if body is not None:
        request["body"] = body
    return request


def cases() -> list[dict[str, Any]]:
    found = [
        event(method, target, headers, body)
        for method, target, _ in TARGETS
        for headers in HEADERS
        for body in BODIES
        if body or "content-type" not in headers
    ]
    found += [event("GET", target, headers, None) for target in GETS for headers in HEADERS]
    return found


@pytest.fixture(scope="module")
def both() -> tuple[Router, APIGatewayHttpResolver]:
    return ours(), powertools()


@pytest.mark.parametrize("request_event", cases(), ids=lambda e: f"{e['rawPath']}")
def test_given_a_request_when_routed_then_the_answer_is_powertools_own(
    both: tuple[Router, APIGatewayHttpResolver], request_event: dict[str, Any]
) -> None:
    router, resolver = both
    expected = resolver.resolve(json.loads(json.dumps(request_event)), None)  # type: ignore[arg-type]

    answer = router.resolve(request_event, None)  # type: ignore[arg-type]

    assert answer == expected


def test_given_a_powertools_marker_when_a_route_is_declared_then_it_is_refused_at_import() -> None:
    app = Router()

    with pytest.raises(TypeError, match=r"handlers\.router"):

        @app.get("/x")
        def route(limit: Annotated[int, PowertoolsQuery(ge=1)] = 1) -> None: ...


def test_given_a_response_when_serialised_then_bytes_are_base64_and_header_lists_joined() -> None:
    app = Router()

    @app.get("/file")
    def file() -> Response[bytes]:
        headers: dict[str, Any] = {"Vary": ["Accept", "Origin"], "X-None": None}
        return Response(200, "application/octet-stream", b"\x00\xff", headers, ["a=1"])

    answer = app.resolve(event("GET", "/file", {}, None), None)  # type: ignore[arg-type]

    assert answer == {
        "statusCode": 200,
        "body": "AP8=",
        "isBase64Encoded": True,
        "headers": {"Vary": "Accept, Origin", "Content-Type": "application/octet-stream"},
        "cookies": ["a=1"],
    }


def test_given_no_not_found_handler_when_nothing_matches_then_the_default_404() -> None:
    answer = Router().resolve(event("GET", "/x", {}, None), None)  # type: ignore[arg-type]

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"statusCode": 404, "message": "Not found"}


def test_given_errors_when_raised_by_a_route_then_handlers_answer_by_class_or_they_propagate() -> (
    None
):
    app = Router()

    @app.get("/lookup")
    def lookup() -> None:
        raise KeyError("k")

    @app.get("/value")
    def value() -> None:
        raise ValueError("v")

    app.exception_handler(LookupError)(lambda _: Response(409))

    assert app.resolve(event("GET", "/lookup", {}, None), None)["statusCode"] == 409  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="v"):
        app.resolve(event("GET", "/value", {}, None), None)  # type: ignore[arg-type]
