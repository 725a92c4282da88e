"""CodeDeploy pre-traffic hook: a new API function version takes traffic only after it answered
a probe request (adapters/deployment_check.py); otherwise the deployment fails and rolls back."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.deployment_check import FAILED, SUCCEEDED, new_versions, problem_with, report
from handlers.observability import logger


def clients() -> tuple[Any, Any]:
    """CodeDeploy and Lambda clients (made per invocation: the hook runs once per deploy)."""
    session = boto3.session.Session()
    return session.client("codedeploy"), session.client("lambda")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    deployment_id = event["DeploymentId"]
    codedeploy, lambda_client = clients()
    problems: dict[str, str] = {}
    try:
        for version in new_versions(codedeploy, deployment_id):
            problem = problem_with(lambda_client, version)
            checked = {"function": version.function_name, "version": version.version}
            if problem is None:
                logger.info("Version passed the pre-traffic check", extra=checked)
            else:
                problems[f"{version.function_name}:{version.version}"] = problem
                logger.error(
                    "Version failed the pre-traffic check", extra={**checked, "problem": problem}
                )
    except Exception:
        # Whatever went wrong, CodeDeploy must hear of it now, not after the hook's timeout.
        logger.exception("Pre-traffic check could not run")
        report(codedeploy, deployment_id, event["LifecycleEventHookExecutionId"], FAILED)
        raise
    status = FAILED if problems else SUCCEEDED
    report(codedeploy, deployment_id, event["LifecycleEventHookExecutionId"], status)
    logger.info("Pre-traffic check done", extra={"deployment_id": deployment_id, "status": status})
