"""Sorts the translated template into what osls builds itself and what stays CloudFormation.

aws-sam-translator expands template.yaml (parameters left unresolved, so that `Stage` stays a
reference instead of becoming "staging"). Its output has three kinds of resources:
- the SAM resources osls has constructs for: functions, layers, the HTTP API (and its stage);
- what SAM generated around them: each function's IAM role (kept, least privilege as written),
  aliases, versions, route permissions and stream mappings (osls makes its own);
- everything else, plain CloudFormation, carried as it is.
Anything SAM generated that is none of these is an error naming it, never a silent omission.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from scripts import sam_template
from scripts.serverless_naming import (
    HTTP_API,
    HTTP_API_STAGE,
    GeneratorError,
    Renames,
    function_logical_id,
    layer_logical_id,
)

HTTP_API_TYPE = "AWS::Serverless::HttpApi"
SUPPORTED_SAM_TYPES = {sam_template.FUNCTION, sam_template.LAYER, HTTP_API_TYPE}
# SAM's gradual deployment (DeploymentPreference): CodeDeploy shifting an alias. osls has no
# alias to shift (only with SnapStart), so the Serverless path deploys all at once
# (scripts/serverless_gradual.py leaves out what exists only for it).
GRADUAL_DEPLOYMENT = "gradual deployment (DeploymentPreference, CodeDeploy on SAM's alias)"
GRADUAL_DEPLOYMENT_REASON = (
    "osls invokes each function itself, not an alias that CodeDeploy could shift: a deploy moves"
    " all traffic at once, with no traffic hook and no alarm rollback (CloudFormation still"
    " rolls back a deploy that fails)"
)
_CODE_DEPLOY = {"AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"}
_ALIAS_PROPERTIES = {"Name", "FunctionName", "FunctionVersion"}


@dataclass
class SortedStack:
    sam: dict[str, Any]
    cfn: dict[str, Any]
    functions: list[str] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)  # SAM id -> translated id
    http_api: str | None = None
    http_api_stage: str | None = None
    carried: list[str] = field(default_factory=list)
    renames: Renames = field(default_factory=Renames)
    not_carried: dict[str, str] = field(default_factory=dict)  # what -> why
    aliases: dict[str, str] = field(default_factory=dict)  # SAM alias -> its function

    def resource(self, logical_id: str) -> dict[str, Any]:
        resource: dict[str, Any] = self.cfn["Resources"][logical_id]
        return resource


def translate_unresolved(template: dict[str, Any]) -> dict[str, Any]:
    """The SAM transform's output with parameter references kept: without defaults, SAM's
    resolver has no value to put in their place."""
    unresolved = copy.deepcopy(template)
    for parameter in unresolved.get("Parameters", {}).values():
        parameter.pop("Default", None)
    cfn = sam_template.translate(unresolved)
    cfn["Parameters"] = copy.deepcopy(template.get("Parameters", {}))
    return cfn


def sort_stack(template: dict[str, Any]) -> SortedStack:
    stack = SortedStack(template, translate_unresolved(template))
    sam_resources: dict[str, dict[str, Any]] = template["Resources"]
    for logical_id, resource in sam_resources.items():
        kind = resource["Type"]
        if kind.startswith("AWS::Serverless::") and kind not in SUPPORTED_SAM_TYPES:
            raise GeneratorError(f"{logical_id}: {kind} has no Serverless counterpart here")
        if kind == sam_template.FUNCTION:
            stack.functions.append(logical_id)
            stack.renames.ids[logical_id] = function_logical_id(logical_id)
        elif kind == HTTP_API_TYPE:
            if stack.http_api is not None:
                raise GeneratorError("osls builds one HTTP API per service; template.yaml has two")
            stack.http_api = logical_id
            stack.renames.ids[logical_id] = HTTP_API
        elif kind != sam_template.LAYER:
            stack.carried.append(logical_id)
    generated = {k: v for k, v in stack.cfn["Resources"].items() if k not in sam_resources}
    _sort_generated(stack, generated)
    return stack


def _sort_generated(stack: SortedStack, generated: dict[str, dict[str, Any]]) -> None:
    renames = stack.renames
    function_roles = {
        _get_att_target(stack.resource(f)["Properties"]["Role"]) for f in stack.functions
    }
    code_deploy_roles = {
        _get_att_target(r["Properties"].get("ServiceRoleArn"))
        for r in generated.values()
        if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    }
    for logical_id, resource in generated.items():
        kind = resource["Type"]
        if kind == "AWS::Lambda::LayerVersion":
            layer = next(
                (name for name in _sam_ids(stack, sam_template.LAYER) if _hashed(logical_id, name)),
                None,
            )
            if layer is None:
                raise GeneratorError(f"{logical_id}: a layer version of no SAM layer")
            stack.layers[layer] = logical_id
            renames.ids[logical_id] = renames.ids[layer] = layer_logical_id(layer)
        elif kind == "AWS::ApiGatewayV2::Stage":
            stack.http_api_stage = logical_id
            renames.ids[logical_id] = HTTP_API_STAGE
        elif kind == "AWS::IAM::Role" and logical_id in function_roles:
            stack.carried.append(logical_id)
        elif kind == "AWS::Lambda::Alias":
            _check_alias(stack, logical_id, resource)
            stack.aliases[logical_id] = resource["Properties"]["FunctionName"]["Ref"]
            renames.gone[logical_id] = "is the alias SAM publishes (osls has one with SnapStart)"
        elif kind == "AWS::Lambda::Version":
            renames.gone[logical_id] = "is a version SAM publishes (osls publishes its own)"
        elif kind == "AWS::Lambda::Permission":
            renames.gone[logical_id] = "is a permission SAM adds for an event (osls adds its own)"
        elif kind == "AWS::Lambda::EventSourceMapping":
            renames.gone[logical_id] = "is a stream mapping (a `stream` event in serverless.yml)"
        elif kind in _CODE_DEPLOY or logical_id in code_deploy_roles:
            renames.gone[logical_id] = f"belongs to the {GRADUAL_DEPLOYMENT}"
            stack.not_carried[GRADUAL_DEPLOYMENT] = GRADUAL_DEPLOYMENT_REASON
        else:
            raise GeneratorError(
                f"SAM generates {logical_id} ({kind}) from template.yaml; scripts/"
                "serverless_stack.py does not know how serverless.yml should carry it"
            )


def _check_alias(stack: SortedStack, logical_id: str, alias: dict[str, Any]) -> None:
    extra = set(alias["Properties"]) - _ALIAS_PROPERTIES
    if extra:
        raise GeneratorError(f"{logical_id}: alias settings {sorted(extra)} would be lost")
    if "UpdatePolicy" in alias:
        stack.not_carried[GRADUAL_DEPLOYMENT] = GRADUAL_DEPLOYMENT_REASON


def _sam_ids(stack: SortedStack, kind: str) -> list[str]:
    return [k for k, v in stack.sam["Resources"].items() if v["Type"] == kind]


def _hashed(logical_id: str, name: str) -> bool:
    """SAM names a layer version `<layer><10 hex digits of its content hash>`."""
    suffix = logical_id.removeprefix(name)
    return (
        suffix != logical_id and len(suffix) == 10 and all(c in "0123456789abcdef" for c in suffix)
    )


def _get_att_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None
