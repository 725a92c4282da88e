"""Logical IDs as the Serverless Framework names them, and references rewritten to match.

SAM and Serverless give the same Lambda function different logical IDs (`LoginFunction` vs
`LoginFunctionLambdaFunction`); every resource carried from template.yaml into serverless.yml
keeps its own ID, but its `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn` references to functions,
layers and the HTTP API must follow them. A reference to something that only SAM generates (an
alias, a version, a route's permission) has no Serverless counterpart: rewriting it fails loudly
instead of leaving CloudFormation a dangling reference.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The names osls gives the HTTP API and its stage (lib/plugins/aws/lib/naming.js).
HTTP_API = "HttpApi"
HTTP_API_STAGE = "HttpApiStage"
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)((?:\.[A-Za-z0-9.]+)?)\}")


class GeneratorError(Exception):
    """template.yaml holds something that serverless.yml cannot express faithfully."""


def normalized(name: str) -> str:
    """osls' getNormalizedResourceName: logical IDs are alphanumeric, so only the first letter."""
    name = name.replace("-", "Dash").replace("_", "Underscore")
    return name[:1].upper() + name[1:]


def function_logical_id(function: str) -> str:
    return f"{normalized(function)}LambdaFunction"


def layer_logical_id(layer: str) -> str:
    return f"{normalized(layer)}LambdaLayer"


def references(value: Any) -> set[str]:
    """The logical IDs (and parameters) ``value`` names: `Ref`, `Fn::GetAtt`, `Fn::Sub` text
    (its own variables aside) and `DependsOn`."""
    if isinstance(value, list):
        return {name for item in value for name in references(item)}
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return {target.partition(".")[0] if isinstance(target, str) else target[0]}
    if set(value) == {"Fn::Sub"}:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        named = {m.group(1) for m in _SUB_REFERENCE.finditer(text)} - set(variables)
        return named | references(list(variables.values()))
    found = {name for item in value.values() for name in references(item)}
    depends = value.get("DependsOn", [])
    return found | set([depends] if isinstance(depends, str) else depends)


@dataclass
class Renames:
    """Old logical ID -> the ID of the same thing in the Serverless stack; `gone` maps IDs that
    have no counterpart to the reason why; `values` replaces a `Ref` by a whole value."""

    ids: dict[str, str] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)
    # `{"Ref": id}` -> a whole value (an alias of SAM's -> what osls invokes instead).
    values: dict[str, Any] = field(default_factory=dict)

    def target(self, logical_id: str, where: str) -> str:
        if logical_id in self.gone:
            raise GeneratorError(
                f"{where} refers to {logical_id}, which {self.gone[logical_id]}: serverless.yml "
                "has no such resource"
            )
        return self.ids.get(logical_id, logical_id)

    def apply(self, value: Any, where: str) -> Any:
        """``value`` (a resource, an output, a condition...) with its references rewritten."""
        if isinstance(value, list):
            return [self.apply(item, where) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return self._ref(value["Ref"], where)
        if set(value) == {"Fn::GetAtt"}:
            return {"Fn::GetAtt": self._get_att(value["Fn::GetAtt"], where)}
        if set(value) == {"Fn::Sub"}:
            return {"Fn::Sub": self._sub(value["Fn::Sub"], where)}
        rewritten = {key: self.apply(item, where) for key, item in value.items()}
        if "DependsOn" in value:
            depends = value["DependsOn"]
            names = [depends] if isinstance(depends, str) else depends
            renamed = [self.target(name, where) for name in names]
            rewritten["DependsOn"] = renamed[0] if isinstance(depends, str) else renamed
        return rewritten

    def _ref(self, name: str, where: str) -> Any:
        if name in self.values:
            return copy.deepcopy(self.values[name])
        return {"Ref": self.target(name, where)}

    def _get_att(self, target: Any, where: str) -> Any:
        if isinstance(target, str):
            name, _, attribute = target.partition(".")
            return [self.target(name, where), attribute]
        return [self.target(target[0], where), *[self.apply(t, where) for t in target[1:]]]

    def _sub(self, sub: Any, where: str) -> Any:
        if isinstance(sub, str):
            return self._sub_text(sub, {}, where)
        text, variables = sub
        variables = {name: self.apply(v, where) for name, v in variables.items()}
        return [self._sub_text(text, variables, where), variables]

    def _sub_text(self, text: str, variables: Mapping[str, Any], where: str) -> str:
        def rename(match: re.Match[str]) -> str:
            name, attribute = match.group(1), match.group(2)
            if name in variables:
                return match.group(0)
            return "${" + self.target(name, where) + attribute + "}"

        return _SUB_REFERENCE.sub(rename, text)
