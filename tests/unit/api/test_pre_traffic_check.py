"""The CodeDeploy pre-traffic hook: a new version that fails the probe fails the deployment (and
CodeDeploy rolls it back before it takes traffic); one that answers lets it go on.

CodeDeploy's lifecycle-hook calls are not in moto: botocore's Stubber checks each call against
the services' own API models instead.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from adapters.deployment_check import FAILED, SUCCEEDED, probe_event
from handlers import handle_pre_traffic

DEPLOYMENT = "d-TESTDEPLOY1"
EXECUTION = "execution-1"


class FakeContext:
    function_name = "CodeDeployHook_userflow-staging-pre-traffic"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hook"
    aws_request_id = "request-1"


def _payload(value: Any) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, Stubber]]:
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    codedeploy, lambda_client = session.client("codedeploy"), session.client("lambda")
    monkeypatch.setattr(handle_pre_traffic, "clients", lambda: (codedeploy, lambda_client))
    with Stubber(codedeploy) as deploys, Stubber(lambda_client) as functions:
        yield deploys, functions
        deploys.assert_no_pending_responses()
        functions.assert_no_pending_responses()


def _targets(deploys: Stubber, *versions: tuple[str, str]) -> None:
    deploys.add_response(
        "list_deployment_targets",
        {"targetIds": [f"target-{i}" for i in range(len(versions))]},
        {"deploymentId": DEPLOYMENT},
    )
    for i, (name, version) in enumerate(versions):
        deploys.add_response(
            "get_deployment_target",
            {
                "deploymentTarget": {
                    "deploymentTargetType": "LambdaTarget",
                    "lambdaTarget": {
                        "lambdaFunctionInfo": {
                            "functionName": name,
                            "functionAlias": "live",
                            "currentVersion": str(int(version) - 1),
                            "targetVersion": version,
                        }
                    },
                }
            },
            {"deploymentId": DEPLOYMENT, "targetId": f"target-{i}"},
        )


def _answers(functions: Stubber, name: str, version: str, answer: dict[str, Any]) -> None:
    functions.add_response(
        "invoke",
        {"StatusCode": 200, **answer},
        {"FunctionName": name, "Qualifier": version, "Payload": json.dumps(probe_event()).encode()},
    )


def _reported(deploys: Stubber, status: str) -> None:
    deploys.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": EXECUTION},
        {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": EXECUTION, "status": status},
    )


def _run() -> None:
    event = {"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION}
    handle_pre_traffic.handler(event, FakeContext())  # type: ignore[arg-type]


def test_given_a_new_version_that_answers_the_probe_when_checked_then_the_deploy_goes_on(
    stubbed: tuple[Stubber, Stubber],
) -> None:
    deploys, functions = stubbed
    _targets(deploys, ("userflow-staging-LoginFunction-abc", "7"))
    _answers(
        functions,
        "userflow-staging-LoginFunction-abc",
        "7",
        {"Payload": _payload({"statusCode": 404, "body": "{}"})},
    )
    _reported(deploys, SUCCEEDED)

    _run()


@pytest.mark.parametrize(
    "answer",
    [
        {"FunctionError": "Unhandled", "Payload": _payload({"errorMessage": "No module named x"})},
        {"Payload": _payload({"statusCode": 500, "body": "{}"})},
        {"Payload": _payload("not an HTTP response")},
    ],
    ids=["raises", "server-error", "not-http"],
)
def test_given_a_new_version_that_fails_the_probe_when_checked_then_the_deploy_fails(
    stubbed: tuple[Stubber, Stubber], answer: dict[str, Any]
) -> None:
    deploys, functions = stubbed
    _targets(deploys, ("fn-a", "3"), ("fn-b", "9"))
    _answers(functions, "fn-a", "3", {"Payload": _payload({"statusCode": 404})})
    _answers(functions, "fn-b", "9", answer)
    _reported(deploys, FAILED)

    _run()


def test_given_codedeploy_refuses_the_listing_when_checked_then_the_deploy_fails_at_once(
    stubbed: tuple[Stubber, Stubber],
) -> None:
    deploys, _ = stubbed
    deploys.add_client_error("list_deployment_targets", "DeploymentDoesNotExistException")
    _reported(deploys, FAILED)

    with pytest.raises(Exception, match="DeploymentDoesNotExist"):
        _run()
