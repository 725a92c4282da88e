"""`events/` holds a sample event for every function (for `sam local invoke -e`); each must work."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from handlers import handle_pre_traffic
from samlocal.apigateway.responses import map_function_result
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, ApiClient
from tests.support.moto_patches import start_rotation

EVENTS = TEMPLATE.parent / "events"
FUNCTIONS = sorted(load_template(TEMPLATE).of_type("AWS::Serverless::Function"))


def sample_path(logical_id: str) -> Path:
    handler = str(load_template(TEMPLATE).function_properties(logical_id)["Handler"])
    return EVENTS / f"{handler.rpartition('.')[0].removeprefix('handlers.handle_')}.json"


def _codedeploy_hook_calls(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    """CodeDeploy's lifecycle-hook calls, which moto does not serve, checked against CodeDeploy's
    API model: a deployment with nothing to shift reports success."""
    codedeploy = boto3.session.Session().client("codedeploy")
    stubber = Stubber(codedeploy)
    stubber.add_response("list_deployment_targets", {"targetIds": []})
    stubber.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": "x"},
        {
            "deploymentId": "d-EXAMPLE123",
            "lifecycleEventHookExecutionId": "eyJlbmNyeXB0ZWREYXRhIjoiZXhhbXBsZSJ9",
            "status": "Succeeded",
        },
    )
    lambda_client = boto3.session.Session().client("lambda")
    monkeypatch.setattr(handle_pre_traffic, "clients", lambda: (codedeploy, lambda_client))
    return stubber


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_given_a_template_function_when_its_sample_event_is_invoked_then_it_does_not_fail(
    api: ApiClient, logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sample_path(logical_id)
    if path.name == "pre_traffic.json":
        _codedeploy_hook_calls(monkeypatch).activate()
    assert path.exists(), f"{logical_id} has no sample event at {path.relative_to(TEMPLATE.parent)}"
    event = json.loads(path.read_text())
    if "ClientRequestToken" in event:  # a rotation step: Secrets Manager has started a rotation
        start_rotation(api.stack, event["ClientRequestToken"])

    result = api.invoke(logical_id, event)

    if event.get("version") == "2.0" and "routeKey" in event and event.get("type") != "REQUEST":
        routes = {r.route_key for r in api.api.routes if r.function == logical_id}
        assert event["routeKey"] in routes
        assert map_function_result(result).status < 500
        if "authorizer" in event["requestContext"]:  # has every claim the authorizer passes on
            assert b"Missing authorizer context" not in map_function_result(result).body
