"""Checks a deploy role against what CloudFormation will need to deploy a template, offline.

CloudFormation's resource schemas publish the IAM permissions each resource type's handlers
call (``handlers.create/update/delete.permissions``); cfn-lint ships those schemas. For every
resource type of the (translated) templates, the role (``deploy/bootstrap.yaml`` by default) must
grant each of them, save the ones its ``Metadata.DeployRoleCheck.NotGranted`` declines with a
reason; and it may grant nothing else, save what ``BeyondHandlers`` lists with a reason (the
deploy's own calls: change sets, artifacts, post-deploy steps). No action may be a wildcard.
One role deploys the stack with either tool, so it must fit every template given (SAM's
template.yaml and the one `osls package` produces); ``--osls`` adds what `osls deploy` itself
calls (scripts/osls_deploy_calls.py, read from osls' source), which the role must grant too.

IAM's own catalogue of actions (cfn-lint ships it too) settles the rest: a schema permission
that IAM does not know (some schemas list API names that are no IAM action) cannot be granted
and is skipped; a granted action must exist; an action with a resource type must be scoped (or
listed under ``OnAnyResource`` with a reason), and one without may only be granted on ``"*"``
(IAM matches it against nothing else, so a scoped grant would silently grant nothing).

    python -m scripts.deploy_role_check TEMPLATE [TEMPLATE ...]
        [--role-template deploy/bootstrap.yaml] [--region us-east-1] [--osls]

A ``TEMPLATE`` is CloudFormation (JSON or YAML): a SAM template is translated first, as the
transform would. Exit status 0 when the role fits, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts import sam_template
from scripts.cloudformation_registry import handler_permissions, has_resource_type, iam_actions
from scripts.policy_size import INLINE_POLICIES_LIMIT, MANAGED_POLICY_LIMIT, policy_size

ROLE_TEMPLATE = sam_template.ROOT / "deploy" / "bootstrap.yaml"
SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"


def _is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform", [])
    transforms = [transform] if isinstance(transform, str) else transform
    return SERVERLESS_TRANSFORM in transforms


def load_cloudformation(path: Path) -> dict[str, Any]:
    """The template as CloudFormation deploys it (a SAM template translated first)."""
    template = sam_template.parse(path.read_text())
    return sam_template.translate(template) if _is_sam(template) else template


def resource_types(template: dict[str, Any]) -> set[str]:
    """Resource types CloudFormation provisions itself (custom resources call a function)."""
    return {
        resource["Type"]
        for resource in template.get("Resources", {}).values()
        if not resource["Type"].startswith("Custom::")
        and resource["Type"] != "AWS::CloudFormation::CustomResource"
    }


def required_permissions(
    templates: dict[str, Any] | Sequence[dict[str, Any]], region: str = "us-east-1"
) -> dict[str, set[str]]:
    """Action (lower case) -> the resource types whose handlers need it, in any of ``templates``."""
    needed: dict[str, set[str]] = {}
    kinds = {kind for template in _as_templates(templates) for kind in resource_types(template)}
    for resource_type in sorted(kinds):
        for action in handler_permissions(resource_type, region):
            needed.setdefault(action, set()).add(resource_type)
    return needed


def _as_templates(
    templates: dict[str, Any] | Sequence[dict[str, Any]],
) -> Sequence[dict[str, Any]]:
    return [templates] if isinstance(templates, dict) else templates


@dataclass
class Grant:
    action: str
    """As written in the role."""
    resources: list[Any]
    conditional: bool


@dataclass
class RoleDocument:
    """The deploy role of a role template: its Allow statements and the check's metadata."""

    grants: list[Grant] = field(default_factory=list)
    not_granted: dict[str, str] = field(default_factory=dict)
    beyond_handlers: dict[str, str] = field(default_factory=dict)
    on_any_resource: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    """Policy (or "inline policies") -> its size at the longest placeholder values."""

    def granted(self) -> dict[str, str]:
        """Lower case action -> as written."""
        return {grant.action.lower(): grant.action for grant in self.grants}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(policy_document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in _as_list(policy_document.get("Statement", [])):
        branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
        yield from (
            branch for branch in branches if isinstance(branch, dict) and "Effect" in branch
        )


def _policy_documents(
    role_template: dict[str, Any], role: str, sizes: dict[str, int]
) -> Iterator[dict[str, Any]]:
    resources = role_template["Resources"]
    properties = resources[role]["Properties"]
    inline = properties.get("Policies", [])
    if inline:
        sizes["inline policies"] = sum(policy_size(policy) for policy in inline)
    for policy in inline:
        yield policy["PolicyDocument"]
    for arn in properties.get("ManagedPolicyArns", []):
        name = arn.get("Ref") if isinstance(arn, dict) else None
        if name is None or resources.get(name, {}).get("Type") != "AWS::IAM::ManagedPolicy":
            raise ValueError(f"{role}: managed policy {arn!r} is not one of the template's own")
        document = resources[name]["Properties"]["PolicyDocument"]
        sizes[name] = policy_size(document)
        yield document


def read_role(path: Path = ROLE_TEMPLATE) -> RoleDocument:
    role_template = sam_template.parse(path.read_text())
    metadata = role_template.get("Metadata", {}).get("DeployRoleCheck", {})
    document = RoleDocument(
        not_granted=dict(metadata.get("NotGranted", {})),
        beyond_handlers=dict(metadata.get("BeyondHandlers", {})),
        on_any_resource=dict(metadata.get("OnAnyResource", {})),
    )
    role_name = metadata.get("Role", "DeployRole")
    for policy in _policy_documents(role_template, role_name, document.sizes):
        for statement in _statements(policy):
            if statement["Effect"] != "Allow":
                continue
            for action in _as_list(statement["Action"]):
                document.grants.append(
                    Grant(action, _as_list(statement["Resource"]), "Condition" in statement)
                )
    return document


def problems(
    templates: dict[str, Any] | Sequence[dict[str, Any]],
    role: RoleDocument,
    region: str = "us-east-1",
    tool_calls: Mapping[str, str] | None = None,
) -> list[str]:
    """Every way ``role`` misfits ``templates`` (one, or several it must deploy alike), and the
    deploy tool's own ``tool_calls`` (IAM action -> who calls it); empty when it fits."""
    return [
        *_size_problems(role),
        *_coverage_problems(required_permissions(templates, region), role),
        *_tool_problems(tool_calls or {}, role),
        *_documentation_problems(role),
        *(problem for grant in role.grants for problem in _grant_problems(grant, role)),
    ]


def _size_problems(role: RoleDocument) -> Iterator[str]:
    for policy, size in sorted(role.sizes.items()):
        limit = INLINE_POLICIES_LIMIT if policy == "inline policies" else MANAGED_POLICY_LIMIT
        if size > limit:
            yield f"{policy} may reach {size} characters, over IAM's {limit}"


def _coverage_problems(needed: dict[str, set[str]], role: RoleDocument) -> Iterator[str]:
    """What handlers need and the role lacks; what it grants that nothing needs."""
    granted = role.granted()
    declined = {action.lower() for action in role.not_granted}
    beyond = {action.lower() for action in role.beyond_handlers}
    for action, types in sorted(needed.items()):
        if action not in granted and action not in declined:
            yield f"missing {action} (needed by {', '.join(sorted(types))})"
    for action in sorted(set(granted) - set(needed) - beyond):
        yield (
            f"{granted[action]} is granted but no handler needs it (list it under "
            "BeyondHandlers with a reason, or remove it)"
        )
    for action in sorted(declined & set(granted)):
        yield f"{action} is both granted and listed under NotGranted"
    for action in sorted(beyond - set(granted)):
        yield f"{action} is listed under BeyondHandlers but not granted (remove the entry)"


def _tool_problems(tool_calls: Mapping[str, str], role: RoleDocument) -> Iterator[str]:
    """What the deploy tool calls itself and the role lacks (granted, it is documented as any
    other grant: needed by a handler, or listed under BeyondHandlers)."""
    granted = role.granted()
    for action, caller in sorted(tool_calls.items(), key=lambda item: item[0].lower()):
        if action.lower() not in granted:
            yield f"missing {action.lower()} ({caller})"


def _documentation_problems(role: RoleDocument) -> Iterator[str]:
    """Entries without a reason, or that no longer describe the role."""
    documented = {**role.not_granted, **role.beyond_handlers, **role.on_any_resource}
    for action, reason in sorted(documented.items()):
        if not str(reason).strip():
            yield f"{action} is listed without a reason"
    for action in sorted({a.lower() for a in role.not_granted} - set(iam_actions())):
        yield f"{action} is listed under NotGranted but is no IAM action (nothing to do)"
    anywhere = {g.action.lower() for g in role.grants if "*" in g.resources}
    scopable_anywhere = {action for action in anywhere if has_resource_type(action)}
    for action in sorted({a.lower() for a in role.on_any_resource} - scopable_anywhere):
        yield f'{action} is listed under OnAnyResource but is not a scopable action on "*"'


def _grant_problems(grant: Grant, role: RoleDocument) -> Iterator[str]:
    """A wildcard or unknown action; "*" where IAM could scope it; a scope IAM ignores."""
    if "*" in grant.action:
        yield f"{grant.action}: wildcard action"
        return
    if grant.action.lower() not in iam_actions():
        yield f"{grant.action} is no IAM action"
        return
    anywhere = "*" in grant.resources
    on_any = {action.lower() for action in role.on_any_resource}
    if anywhere and has_resource_type(grant.action) and grant.action.lower() not in on_any:
        yield (
            f'{grant.action} on any resource ("*"): scope it, or list it under '
            "OnAnyResource with a reason"
        )
    if not anywhere and not has_resource_type(grant.action):
        yield (
            f'{grant.action} has no resource type: IAM matches it only against "*", so this '
            "scoped grant grants nothing"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "templates", type=Path, nargs="+", metavar="template", help="CloudFormation or SAM"
    )
    parser.add_argument("--role-template", type=Path, default=ROLE_TEMPLATE)
    parser.add_argument("--region", default="us-east-1", help="whose resource schemas to use")
    parser.add_argument(
        "--osls", action="store_true", help="also what `osls deploy` itself calls on AWS"
    )
    args = parser.parse_args(argv)
    tool_calls = None
    if args.osls:
        from scripts.osls_deploy_calls import deploy_actions

        tool_calls = deploy_actions()
    templates = [load_cloudformation(path) for path in args.templates]
    found = problems(templates, read_role(args.role_template), args.region, tool_calls)
    for problem in found:
        print(problem, file=sys.stderr)
    if not found:
        names = ", ".join(str(path) for path in args.templates)
        print(f"{args.role_template}: the deploy role fits {names}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
