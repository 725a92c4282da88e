"""CloudFormation's intrinsic functions, resolved for one stack as CloudFormation resolves them.

Parameters with their defaults, conditions, pseudo parameters (``AWS::Region``, ...) and the
Ref/GetAtt values of the resources that the provisioner created; :func:`references` gives the
logical ids a value depends on, for provisioning in dependency order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from samlocal.template import Template, TemplateError

ACCOUNT_ID = "123456789012"
"""The emulated account (moto's default account)."""

NO_VALUE = object()
"""What ``!Ref AWS::NoValue`` resolves to: the enclosing key or list item disappears."""

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass
class Resolver:
    """Resolves intrinsics the way CloudFormation does for one stack."""

    template: Template
    stack_name: str
    region: str
    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    """Logical id → what ``!Ref`` returns (the physical id)."""
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Logical id → attribute name → what ``!GetAtt`` returns."""

    def __post_init__(self) -> None:
        declared = self.template.body.get("Parameters", {})
        for name, spec in declared.items():
            if name not in self.parameters and "Default" in spec:
                self.parameters[name] = spec["Default"]
        self._conditions: dict[str, bool] = {}

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/local"
            ),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::NotificationARNs": "",
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.body.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        name = self.template.resources[logical_id].get("Condition")
        return name is None or self.condition(name)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic replaced; ``AWS::NoValue`` items are dropped."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key in {"Ref", "Condition"} or key.startswith("Fn::"):
                return self._intrinsic(key, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"cannot resolve Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise TemplateError(f"cannot resolve GetAtt {logical_id}.{attribute}") from None

    def _intrinsic(self, key: str, argument: Any) -> Any:  # noqa: PLR0911, PLR0912
        name = key.removeprefix("Fn::")
        if name == "Ref":
            return self.ref(self.resolve(argument))
        if name == "Condition":
            return self.condition(argument)
        if name == "GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            logical_id, attribute = (self.resolve(part) for part in parts)
            return self.get_att(logical_id, attribute)
        if name == "Sub":
            return self._sub(argument)
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = self.resolve(argument)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(argument[0])
        if name == "And":
            return all(self.resolve(argument))
        if name == "Or":
            return any(self.resolve(argument))
        if name == "Join":
            delimiter, items = argument
            return str(delimiter).join(str(item) for item in self.resolve(items))
        if name == "Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if name == "Split":
            delimiter, text = self.resolve(argument)
            return str(text).split(delimiter)
        if name == "FindInMap":
            map_name, top, second = self.resolve(argument)
            return self.template.body["Mappings"][map_name][top][second]
        if name == "Base64":
            import base64

            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        if name == "GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        raise TemplateError(f"{key} is not supported locally")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)


def references(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, Sub), to provision in dependency order."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, Mapping):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                if isinstance(parts[0], str):
                    found.add(parts[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("!"):
                        found.add(name.split(".", 1)[0])
                if not isinstance(argument, str):
                    found |= references(argument[1])
            else:
                found |= references(argument)
    return found
