"""What CloudFormation's resource handlers call to create, update and delete each resource type
(the registry's schemas, as cfn-lint ships them), and IAM's catalogue of actions (which of them
name a resource type): what a deploy role must allow (scripts/deploy_role_check.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HANDLERS = ("create", "update", "delete")


@cache
def _schemas_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data" / "schemas"


@cache
def iam_actions() -> dict[str, dict[str, Any]]:
    """``service:action`` (lower case) -> IAM's facts about it (``Resources``: its types)."""
    catalogue = json.loads(
        (_schemas_dir().parent / "AdditionalSpecs" / "Policies.json").read_text()
    )
    return {
        f"{service}:{action}": facts
        for service, entry in catalogue.items()
        for action, facts in entry.get("Actions", {}).items()
    }


def has_resource_type(action: str) -> bool:
    return bool(iam_actions().get(action.lower(), {}).get("Resources"))


@cache
def _schema_index(region: str) -> dict[str, str]:
    index: dict[str, str] = json.loads(
        (_schemas_dir() / "providers" / f"{region}.json").read_text()
    )
    return index


def handler_permissions(resource_type: str, region: str = "us-east-1") -> set[str]:
    """The IAM actions CloudFormation's handlers of ``resource_type`` call, lower case (IAM's
    actions only: see the module's docstring)."""
    schema_id = _schema_index(region).get(resource_type)
    if schema_id is None:
        raise KeyError(f"no CloudFormation schema for {resource_type} in {region}")
    schema = json.loads((_schemas_dir() / "resources" / f"{schema_id}.json").read_text())
    handlers = schema.get("handlers", {})
    return {
        action.lower()
        for handler in HANDLERS
        for action in handlers.get(handler, {}).get("permissions", [])
        if action.lower() in iam_actions()
    }
