"""Reading the SAM template and its CloudFormation translation as the deploy checks do: resources of
a type, what a reference names, every node, policy statements, dead-letter queues, and the
OpenAPI document's request bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from scripts import sam_template

Resources = dict[str, dict[str, Any]]

# Actions that AWS does not let a policy scope to a resource, so "*" is the only possible Resource.
RESOURCELESS_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "dynamodb:ListStreams",  # a stream event source mapping needs it; it has no resource type
}


def resources_of(template: dict[str, Any], resource_type: str) -> Resources:
    """The template's resources of one type, by logical id."""
    return sam_template.resources_of_type(template, resource_type)


def referenced_id(value: Any) -> str | None:
    """The resource a `Ref`/`Fn::GetAtt`/`Fn::Sub` points at, if the value names one."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            match = re.search(r"\$\{([A-Za-z0-9]+)[.}]", text)
            return match.group(1) if match else None
    return None


def dicts_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a nested value, itself included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from dicts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from dicts_in(item)


def policy_statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A policy document's statements, both branches of a conditional one (`Fn::If`) included."""
    for statement in policy["PolicyDocument"]["Statement"]:
        branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
        yield from (branch for branch in branches if "Action" in branch)


def dead_letter_queues(cfn: dict[str, Any]) -> set[str]:
    """Queues that receive what failed: SQS redrive, EventBridge target DLQs, on-failure
    destinations of event source mappings and async invokes, and Lambda DLQs."""
    queues = set(resources_of(cfn, "AWS::SQS::Queue"))
    found: set[str] = set()
    for resource in cfn["Resources"].values():
        for node in dicts_in(resource.get("Properties", {})):
            for key in ("deadLetterTargetArn", "Destination", "TargetArn"):
                found.add(referenced_id(node.get(key)) or "")
            if isinstance(node.get("DeadLetterConfig"), dict):
                found.add(referenced_id(node["DeadLetterConfig"].get("Arn")) or "")
    return found & queues


def openapi_body_fields() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path with `{}` for each parameter, its JSON body's properties) of every operation
    of docs/openapi.json."""
    document = json.loads((sam_template.ROOT / "docs" / "openapi.json").read_text())
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            name = body.get("schema", {}).get("$ref", "").rpartition("/")[2]
            fields = schemas.get(name, {}).get("properties", {})
            yield method.upper(), re.sub(r"\{[^}]+\}", "{}", path), fields
