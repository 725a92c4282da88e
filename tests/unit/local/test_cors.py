"""CORS as API Gateway applies an HTTP API's CorsConfiguration, read from template.yaml."""

from __future__ import annotations

import pytest

from samlocal.apigateway.cors import CorsConfiguration, cors_from_template
from samlocal.intrinsics import Resolver
from userflow.template import userflow_template

TEMPLATE = userflow_template()
APP = "https://app.example.com"


def _resolver(**parameters: str) -> Resolver:
    return Resolver(TEMPLATE, stack_name="local", region="us-east-1", parameters=parameters)


@pytest.fixture
def cors() -> CorsConfiguration:
    origins = f"{APP},https://admin.example.com"
    found = cors_from_template(TEMPLATE, _resolver(AllowedOrigins=origins))
    assert found is not None
    return found


def test_given_the_default_parameters_when_read_then_no_cors() -> None:
    assert cors_from_template(TEMPLATE, _resolver()) is None


def test_given_allowed_origins_when_read_then_the_template_configuration(
    cors: CorsConfiguration,
) -> None:
    assert cors.allow_origins == (APP, "https://admin.example.com")
    assert cors.allow_methods == ("GET", "POST", "PATCH", "DELETE")
    assert "Idempotency-Key" in cors.allow_headers
    assert cors.expose_headers == ("ETag", "Location", "apigw-requestid")


def test_given_a_preflight_from_an_allowed_origin_when_answered_then_the_configured_headers(
    cors: CorsConfiguration,
) -> None:
    headers = dict(
        cors.preflight("OPTIONS", [("Origin", APP), ("Access-Control-Request-Method", "PATCH")])
        or []
    )

    assert headers["Access-Control-Allow-Origin"] == APP
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,PATCH,DELETE"
    assert "If-Match" in headers["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Max-Age"] == "600"


def test_given_a_preflight_from_another_origin_when_answered_then_no_cors_headers(
    cors: CorsConfiguration,
) -> None:
    answer = cors.preflight(
        "OPTIONS", [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")]
    )

    assert answer == []


@pytest.mark.parametrize(
    ("method", "headers"),
    [("OPTIONS", [("Origin", APP)]), ("GET", [("Origin", APP)]), ("OPTIONS", [])],
)
def test_given_a_request_that_is_no_preflight_when_checked_then_none(
    cors: CorsConfiguration, method: str, headers: list[tuple[str, str]]
) -> None:
    assert cors.preflight(method, headers) is None


def test_given_a_response_when_the_origin_is_allowed_then_cors_headers_replace_the_functions(
    cors: CorsConfiguration,
) -> None:
    returned = [("ETag", '"1"'), ("Access-Control-Allow-Origin", "*")]

    allowed = dict(cors.response_headers([("origin", APP)], returned))
    other = dict(cors.response_headers([("origin", "https://evil.example")], returned))

    assert allowed == {
        "ETag": '"1"',
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": "ETag,Location,apigw-requestid",
    }
    assert other == {"ETag": '"1"'}


def test_given_wildcard_origins_when_matched_then_as_api_gateway_does() -> None:
    cors = CorsConfiguration(allow_origins=("https://*",))

    assert cors.allowed_origin("https://any.example") == "https://any.example"
    assert cors.allowed_origin("http://any.example") is None
    assert CorsConfiguration(allow_origins=("*",)).allowed_origin("http://x") == "*"
