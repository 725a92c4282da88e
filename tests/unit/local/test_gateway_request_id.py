"""Every local API response carries ``apigw-requestid``, as API Gateway HTTP APIs send it."""

from __future__ import annotations

from typing import Any

from samlocal.apigateway.gateway import Gateway
from samlocal.apigateway.routes import Api, Route


def test_given_any_request_when_answered_then_apigw_requestid_is_the_events_request_id() -> None:
    seen: list[str] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event["requestContext"]["requestId"])
        return {"statusCode": 201, "body": "{}"}

    gateway = Gateway(Api(routes=[Route("POST", "/users", "Create", None)]), invoke, region="r")

    answered = gateway.handle("POST", "/users")
    unknown = gateway.handle("GET", "/nowhere")

    assert dict(answered.headers)["apigw-requestid"] == seen[0]
    assert unknown.status == 404
    assert dict(unknown.headers)["apigw-requestid"] not in ("", seen[0])
