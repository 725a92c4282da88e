"""CodeDeploy's pre-traffic check of new Lambda versions (template.yaml, PreTrafficCheckFunction).

Before an alias moves to a new version, CodeDeploy invokes the hook with its deployment id. The
check reads which function versions the deployment moves (``ListDeploymentTargets`` and
``GetDeploymentTarget``), invokes each new version directly with an HTTP API request for a route
no function serves, and reports to CodeDeploy: a version that raises, times out or answers a
server error fails the deployment, which CodeDeploy rolls back before any request reaches it.
Nothing is written anywhere: the request matches no route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROBE_PATH = "/__pre-traffic-check"
SUCCEEDED = "Succeeded"
FAILED = "Failed"


@dataclass(frozen=True)
class NewVersion:
    function_name: str
    version: str


def probe_event() -> dict[str, Any]:
    """A payload-2.0 request that no route matches (the function answers 404)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": PROBE_PATH,
        "rawQueryString": "",
        "headers": {"user-agent": "userflow-pre-traffic-check"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": PROBE_PATH,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "userflow-pre-traffic-check",
            },
            "requestId": "pre-traffic-check",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def new_versions(codedeploy: Any, deployment_id: str) -> list[NewVersion]:
    """The function versions that ``deployment_id`` shifts traffic to."""
    found: list[NewVersion] = []
    pages = {"deploymentId": deployment_id}
    while True:
        listed = codedeploy.list_deployment_targets(**pages)
        for target_id in listed.get("targetIds", []):
            target = codedeploy.get_deployment_target(
                deploymentId=deployment_id, targetId=target_id
            )["deploymentTarget"]
            info = target.get("lambdaTarget", {}).get("lambdaFunctionInfo", {})
            found.append(NewVersion(info["functionName"], info["targetVersion"]))
        if not listed.get("nextToken"):
            return found
        pages = {"deploymentId": deployment_id, "nextToken": listed["nextToken"]}


def problem_with(lambda_client: Any, version: NewVersion) -> str | None:
    """Why ``version`` must not take traffic, or None when it answered the probe sanely."""
    answer = lambda_client.invoke(
        FunctionName=version.function_name,
        Qualifier=version.version,
        Payload=json.dumps(probe_event()).encode(),
    )
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        return f"function error ({answer['FunctionError']})"
    try:
        result = json.loads(payload)
    except ValueError:
        return "answer is not JSON"
    status = result.get("statusCode") if isinstance(result, dict) else None
    if not isinstance(status, int) or status >= 500:
        return f"answered status {status!r}"
    return None


def report(codedeploy: Any, deployment_id: str, execution_id: str, status: str) -> None:
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
    )
