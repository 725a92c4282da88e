"""The local gateway picks routes, runs the authorizer and maps responses as API Gateway does."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from samlocal.apigateway.gateway import Gateway, Handler, Request
from samlocal.apigateway.responses import Response, map_function_result
from samlocal.apigateway.routes import Api, Authorizer, Route, api_from_template, match_route
from samlocal.functions.config import FunctionError
from samlocal.template import load_template

ROUTES = [
    Route("GET", "/users/me", "Me", "Jwt"),
    Route("GET", "/users/{id}", "GetUser", "Jwt"),
    Route("PATCH", "/users/{id}", "Patch", "Jwt"),
    Route("POST", "/users", "Create", None),
    Route("ANY", "/files/{proxy+}", "Files", None),
    Route("GET", "/files/{proxy+}", "GetFiles", None),
    Route("GET", "/files/readme", "Readme", None),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "parameters"),
    [
        ("GET", "/users/me", "Me", {}),
        ("GET", "/users/42", "GetUser", {"id": "42"}),
        ("PATCH", "/users/me", "Patch", {"id": "me"}),
        ("GET", "/users/a b", "GetUser", {"id": "a b"}),
        ("GET", "/files/readme", "Readme", {}),
        ("GET", "/files/a/b", "GetFiles", {"proxy": "a/b"}),
        ("DELETE", "/files/a/b", "Files", {"proxy": "a/b"}),
    ],
)
def test_given_overlapping_routes_when_matching_then_the_most_specific_wins(
    method: str, path: str, function: str, parameters: dict[str, str]
) -> None:
    found = match_route(ROUTES, method, path)

    assert found is not None
    assert (found[0].function, found[1]) == (function, parameters)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nothing"),
        ("GET", "/users/1/extra"),
        ("GET", "/files"),
        ("PUT", "/users"),
        ("DELETE", "/users/1"),
    ],
)
def test_given_no_route_for_path_or_method_when_matching_then_none(method: str, path: str) -> None:
    assert match_route(ROUTES, method, path) is None


def _gateway(invoke: Any, ttl: int = 0) -> Gateway:
    api = Api(
        routes=ROUTES,
        authorizers={(None, "Jwt"): Authorizer("Jwt", "Authorize", ("Authorization",), (), ttl)},
    )
    return Gateway(api, invoke, region="us-east-1")


class Recorder:
    """A fake invoker: answers per function and records every event it was given."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        answer = self.answers[function]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def functions(self) -> list[str]:
        return [function for function, _ in self.calls]


def test_given_no_route_when_requesting_then_404_not_found_without_invoking() -> None:
    recorder = Recorder({})

    response = _gateway(recorder).handle("GET", "/nothing")

    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert recorder.calls == []


def test_given_no_identity_on_a_protected_route_when_requesting_then_401_not_authorizing() -> None:
    recorder = Recorder({})

    response = _gateway(recorder).handle("GET", "/users/1", headers=[("Authorization", "")])

    assert (response.status, response.body) == (401, b'{"message":"Unauthorized"}')
    assert recorder.calls == []


def test_given_a_denying_authorizer_when_requesting_then_403_and_route_not_invoked() -> None:
    recorder = Recorder({"Authorize": {"isAuthorized": False}})

    response = _gateway(recorder).handle("GET", "/users/1", headers=[("Authorization", "Bearer x")])

    assert (response.status, response.body) == (403, b'{"message":"Forbidden"}')
    assert recorder.functions() == ["Authorize"]


def test_given_an_allowing_authorizer_when_requesting_then_route_gets_its_context() -> None:
    context = {"sub": "u1", "roles": "user"}
    recorder = Recorder(
        {"Authorize": {"isAuthorized": True, "context": context}, "GetUser": {"statusCode": 200}}
    )

    _gateway(recorder).handle("GET", "/users/1", headers=[("Authorization", "Bearer t")])

    (_, authorizer_event), (_, route_event) = recorder.calls
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["identitySource"] == ["Bearer t"]
    assert authorizer_event["routeArn"].endswith("/$default/GET/users/1")
    assert route_event["requestContext"]["authorizer"] == {"lambda": context}
    assert route_event["pathParameters"] == {"id": "1"}
    assert route_event["routeKey"] == "GET /users/{id}"


def test_given_a_failing_authorizer_when_requesting_then_500() -> None:
    recorder = Recorder({"Authorize": FunctionError("boom")})

    response = _gateway(recorder).handle("GET", "/users/1", headers=[("Authorization", "Bearer t")])

    assert (response.status, response.body) == (500, b'{"message":"Internal Server Error"}')


def test_given_caching_when_the_same_token_comes_again_then_authorizer_runs_once() -> None:
    allow = {"isAuthorized": True, "context": {"sub": "u"}}
    recorder = Recorder({"Authorize": allow, "GetUser": {"statusCode": 200}})
    gateway = _gateway(recorder, ttl=300)

    for _ in range(2):
        gateway.handle("GET", "/users/1", headers=[("Authorization", "Bearer t")])
    gateway.handle("GET", "/users/1", headers=[("Authorization", "Bearer other")])

    assert recorder.functions().count("Authorize") == 2


def test_given_a_function_error_when_requesting_then_500_without_detail() -> None:
    recorder = Recorder({"Create": FunctionError("KeyError: secret detail")})

    response = _gateway(recorder).handle("POST", "/users", body=b"{}")

    assert (response.status, response.body) == (500, b'{"message":"Internal Server Error"}')


def test_given_a_full_response_when_mapping_then_status_headers_cookies_and_base64_body() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Location": "/users/1", "X-Count": 3},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "cookies": ["a=1; Secure", "b=2"],
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }

    response = map_function_result(result)

    assert response.status == 201
    assert ("Location", "/users/1") in response.headers
    assert ("X-Count", "3") in response.headers
    assert [v for k, v in response.headers if k == "X-Multi"] == []  # not in payload 2.0
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Secure", "b=2"]
    assert response.body == b"\x00\x01"


def test_given_a_value_without_status_code_when_mapping_then_200_json_of_the_value() -> None:
    response = map_function_result({"hello": "world"})

    assert response.status == 200
    assert ("Content-Type", "application/json") in response.headers
    assert json.loads(response.body) == {"hello": "world"}


def test_given_a_bare_string_without_status_code_when_mapping_then_it_is_the_body() -> None:
    response = map_function_result("Hello from Lambda!")

    assert (response.status, response.body) == (200, b"Hello from Lambda!")


def test_given_the_repo_template_when_reading_routes_then_auth_opt_out_and_default_apply() -> None:
    template = load_template(Path(__file__).resolve().parents[3] / "template.yaml")

    api = api_from_template(template)

    routes = {route.route_key: route for route in api.routes}
    assert routes["POST /users"].authorizer is None
    assert routes["GET /users/{id}"].authorizer == "JwtAuthorizer"
    authorizer = api.authorizers[("HttpApi", "JwtAuthorizer")]
    assert authorizer.identity_headers == ("Authorization",)
    assert authorizer.simple_responses is True


def _route_event(path: str, **request: Any) -> dict[str, Any]:
    """The event the route function gets for an unauthenticated request."""
    recorder = Recorder({"Files": {"statusCode": 200}, "Create": {"statusCode": 201}})
    _gateway(recorder).handle(request.pop("method", "GET"), path, **request)
    ((_, event),) = recorder.calls
    return event


def test_given_repeated_headers_and_query_keys_when_requesting_then_joined_with_commas() -> None:
    headers = [("X-Tag", "a"), ("x-tag", "b"), ("Cookie", "s=1; t=2"), ("Cookie", "u=3")]

    event = _route_event("/files/x", query="k=1&k=2&flag&q=a%20b", headers=headers)

    assert event["headers"] == {"x-tag": "a,b", "x-forwarded-proto": "http"}
    assert event["cookies"] == ["s=1", "t=2", "u=3"]
    assert event["queryStringParameters"] == {"k": "1,2", "flag": "", "q": "a b"}
    assert event["rawQueryString"] == "k=1&k=2&flag&q=a%20b"


def test_given_cookie_headers_the_server_joined_when_requesting_then_one_entry_per_cookie() -> None:
    """waitress hands repeated headers over joined with ", " (one WSGI variable per name)."""
    event = _route_event("/files/x", headers=[("Cookie", "a=1, b=2; c=3")])

    assert event["cookies"] == ["a=1", "b=2", "c=3"]


def test_given_an_encoded_path_when_requesting_then_raw_path_and_parameters_decoded_once() -> None:
    event = _route_event("/files/a%2Fb/c%2541")

    assert event["rawPath"] == "/files/a/b/c%41"
    assert event["requestContext"]["http"]["path"] == "/files/a/b/c%41"
    assert event["pathParameters"] == {"proxy": "a/b/c%41"}


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("text/plain", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/x-www-form-urlencoded", False),
        ("application/octet-stream", False),
        (None, False),
    ],
)
def test_given_a_body_when_requesting_then_only_text_types_arrive_unencoded(
    content_type: str | None, text: bool
) -> None:
    headers = [("Content-Type", content_type)] if content_type else []

    event = _route_event("/users", method="POST", headers=headers, body=b"a=1&b=2")

    assert event["isBase64Encoded"] is not text
    assert event["body"] == ("a=1&b=2" if text else base64.b64encode(b"a=1&b=2").decode())


def test_given_middleware_when_requesting_then_it_answers_before_routing_or_adjusts_after() -> None:
    recorder = Recorder({"Create": {"statusCode": 201}})

    def preflight(request: Request, call_next: Handler) -> Response:
        if request.method == "OPTIONS":
            return Response(204, [("Access-Control-Allow-Origin", "*")], b"")
        response = call_next(request)
        response.headers.append(("Access-Control-Allow-Origin", "*"))
        return response

    gateway = Gateway(Api(routes=ROUTES), recorder, region="us-east-1", middleware=[preflight])

    answered = gateway.handle("OPTIONS", "/users")
    routed = gateway.handle("POST", "/users", body=b"{}")

    assert answered.status == 204
    assert routed.status == 201
    assert ("Access-Control-Allow-Origin", "*") in routed.headers
    assert recorder.functions() == ["Create"]
