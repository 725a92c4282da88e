"""What `osls deploy` itself calls on AWS, read from osls' source, as the IAM actions it needs.

CloudFormation creates the stack's resources with the deploy role's permissions (what each
resource type's handlers call: scripts/deploy_role_check.py). osls calls AWS too, with the same
role: it resolves serverless.yml's variables (the bootstrap stack's bucket: `cf:`), checks the
deployment bucket and the previous deploy, uploads the artifacts, validates the template, creates,
executes and follows the change set, removes old artifacts and shows the stack's info.

`CALLS` classifies every `provider.request('<Service>', '<method>', ...)` of the osls modules a
deploy loads (all of osls' AWS plugin and variable sources, save the modules of other commands:
`NOT_DEPLOY`): the IAM actions it needs, or why a deploy of serverless.yml never makes it (a
setting it does not use). `calls_in_source()` reads the calls from node_modules/osls, and a test
compares both, so an osls upgrade that calls something new fails `make test` until it is
classified here and, if needed, granted by deploy/bootstrap.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scripts.serverless_package import OSLS_DIR

# osls modules that only other commands load (deploy function, invoke, logs, remove...), and the
# custom resources' own code, which runs in Lambda.
NOT_DEPLOY = (
    "lib/plugins/aws/deploy-function.js",
    "lib/plugins/aws/deploy-list.js",
    "lib/plugins/aws/invoke.js",
    "lib/plugins/aws/invoke-local/",
    "lib/plugins/aws/logs.js",
    "lib/plugins/aws/metrics.js",
    "lib/plugins/aws/remove/",
    "lib/plugins/aws/rollback.js",
    "lib/plugins/aws/rollback-function.js",
    "lib/plugins/aws/custom-resources/resources/",
)
SEARCHED = ("lib/plugins/aws/", "lib/configuration/variables/sources/")
_REQUEST = re.compile(r"\.request\(\s*'(\w+)'\s*,\s*'(\w+)'")


@dataclass(frozen=True)
class Call:
    """An AWS call of osls: the IAM actions it needs, or why serverless.yml never makes it."""

    actions: tuple[str, ...] = ()
    unused: str = ""


_NO_CUSTOM_BUCKET = "only without provider.deploymentBucket (osls' own bucket in the stack)"
_DIRECT = "only with deploymentMethod direct (serverless.yml deploys through change sets)"
_LOG_SUBSCRIPTIONS = "only for cloudwatchLog events (none)"
_REST_API = "only for a REST API (the stack's is an HTTP API)"
_IMAGES = "only for functions deployed as container images (none)"

CALLS: dict[tuple[str, str], Call] = {
    # Variables: `cf:` resolves provider.deploymentBucket from the bootstrap stack's outputs.
    ("CloudFormation", "describeStacks"): Call(("cloudformation:DescribeStacks",)),
    ("STS", "getCallerIdentity"): Call(unused="needs no permission (IAM always allows it)"),
    ("S3", "getObject"): Call(unused="only for `s3:` variables (none)"),
    ("SSM", "getParameter"): Call(unused="only for `ssm:` variables (none)"),
    ("CloudFormation", "listExports"): Call(unused="only for an imported provider.httpApi.id"),
    ("ApiGatewayV2", "getApi"): Call(unused="only for an external provider.httpApi.id"),
    # The deployment bucket (the bootstrap stack's) and the previous deploy's artifacts.
    ("S3", "headBucket"): Call(("s3:ListBucket",)),
    ("S3", "listObjectsV2"): Call(("s3:ListBucket",)),
    ("S3", "headObject"): Call(("s3:GetObject",)),
    ("Lambda", "getFunction"): Call(("lambda:GetFunction",)),
    # The SDK's managed upload: multipart for large files, aborted when an upload fails.
    ("S3", "upload"): Call(("s3:PutObject", "s3:AbortMultipartUpload")),
    ("S3", "deleteObjects"): Call(("s3:DeleteObject",)),
    # The change set.
    ("CloudFormation", "validateTemplate"): Call(("cloudformation:ValidateTemplate",)),
    ("CloudFormation", "createChangeSet"): Call(("cloudformation:CreateChangeSet",)),
    ("CloudFormation", "describeChangeSet"): Call(("cloudformation:DescribeChangeSet",)),
    ("CloudFormation", "executeChangeSet"): Call(("cloudformation:ExecuteChangeSet",)),
    ("CloudFormation", "deleteChangeSet"): Call(("cloudformation:DeleteChangeSet",)),
    ("CloudFormation", "describeStackEvents"): Call(("cloudformation:DescribeStackEvents",)),
    # The info shown after the deploy (resource count).
    ("CloudFormation", "listStackResources"): Call(("cloudformation:ListStackResources",)),
    ("CloudFormation", "createStack"): Call(unused=_DIRECT),
    ("CloudFormation", "updateStack"): Call(unused=_DIRECT),
    ("CloudFormation", "setStackPolicy"): Call(unused="only with provider.stackPolicy (none)"),
    ("CloudFormation", "getTemplate"): Call(unused=_NO_CUSTOM_BUCKET),
    ("CloudFormation", "describeStackResource"): Call(
        unused=f"{_NO_CUSTOM_BUCKET}, {_LOG_SUBSCRIPTIONS} or {_REST_API}"
    ),
    ("CloudFormation", "describeStackResources"): Call(unused="only for REST API keys (none)"),
    ("CloudWatchLogs", "describeSubscriptionFilters"): Call(unused=_LOG_SUBSCRIPTIONS),
    ("CloudWatchLogs", "deleteSubscriptionFilter"): Call(unused=_LOG_SUBSCRIPTIONS),
    ("CloudWatchLogs", "deleteLogGroup"): Call(unused=_REST_API),
    ("APIGateway", "getApiKey"): Call(unused=_REST_API),
    ("APIGateway", "getUsagePlans"): Call(unused=_REST_API),
    ("APIGateway", "updateUsagePlan"): Call(unused=_REST_API),
    ("APIGateway", "createStage"): Call(unused=_REST_API),
    ("APIGateway", "getDeployments"): Call(unused=_REST_API),
    ("APIGateway", "getRestApis"): Call(unused=_REST_API),
    ("APIGateway", "getStage"): Call(unused=_REST_API),
    ("APIGateway", "updateStage"): Call(unused=_REST_API),
    ("APIGateway", "tagResource"): Call(unused=_REST_API),
    ("APIGateway", "untagResource"): Call(unused=_REST_API),
    ("ECR", "createRepository"): Call(unused=_IMAGES),
    ("ECR", "describeImages"): Call(unused=_IMAGES),
    ("ECR", "describeRepositories"): Call(unused=_IMAGES),
    ("ECR", "getAuthorizationToken"): Call(unused=_IMAGES),
    ("ECR", "putLifecyclePolicy"): Call(unused=_IMAGES),
}


def calls_in_source(osls_dir: Path = OSLS_DIR) -> dict[tuple[str, str], list[str]]:
    """(Service, method) -> the osls modules a deploy loads that call it."""
    found: dict[tuple[str, str], list[str]] = {}
    for searched in SEARCHED:
        for module in sorted((osls_dir / searched).rglob("*.js")):
            name = module.relative_to(osls_dir).as_posix()
            if name.startswith(NOT_DEPLOY):
                continue
            for match in _REQUEST.finditer(module.read_text()):
                found.setdefault((match.group(1), match.group(2)), []).append(name)
    return found


def deploy_actions() -> dict[str, str]:
    """IAM action -> the osls calls that need it."""
    actions: dict[str, str] = {}
    for (service, method), call in sorted(CALLS.items()):
        for action in call.actions:
            caller = f"{service}.{method}"
            actions[action] = f"{actions[action]}, {caller}" if action in actions else caller
    return {action: f"osls deploy calls {callers}" for action, callers in actions.items()}
