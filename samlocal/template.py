"""Reads a SAM template (YAML with CloudFormation's short tags) as plain data.

Everything the emulator runs comes from the template: resources, ``Globals`` merged as SAM merges
them, parameters. Intrinsic functions stay unresolved here; :mod:`samlocal.intrinsics` resolves
them for one stack.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt",
            "Sub",
            "If",
            "Equals",
            "Join",
            "Select",
            "Split",
            "FindInMap",
            "Not",
            "And",
            "Or",
            "Base64",
            "GetAZs",
            "ImportValue",
            "Cidr",
        )
    },
}


FUNCTION_TYPE = "AWS::Serverless::Function"


class TemplateError(Exception):
    """The template uses something the emulator cannot read or resolve."""


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it (parses template.yaml about ten times faster)."""


class _TemplateLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A YAML loader that turns ``!Tag value`` into ``{"Fn::Tag": value}``."""


def _construct_tag(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if suffix not in _SHORT_TAGS:
        raise TemplateError(f"unknown tag !{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {_SHORT_TAGS[suffix]: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class FunctionEvent:
    """One entry of a function's ``Events``: the function's logical id, the event's name, its
    ``Properties`` (intrinsics unresolved)."""

    function: str
    name: str
    properties: dict[str, Any]


@dataclass
class Template:
    """A parsed template: its sections as plain dicts, intrinsics still unresolved."""

    path: Path
    body: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body.get("Resources", {})
        return resources

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}

    def functions(self) -> dict[str, dict[str, Any]]:
        """The ``AWS::Serverless::Function`` resources by logical id."""
        return self.of_type(FUNCTION_TYPE)

    def function_events(
        self, event_type: str, enabled: Callable[[str], bool] = lambda logical_id: True
    ) -> Iterator[FunctionEvent]:
        """Every event of type ``event_type`` (``HttpApi``, ``DynamoDB``, ``SQS``...) of the
        functions ``enabled`` keeps (their ``Condition`` holds), in the template's order; its
        properties unresolved."""
        for logical_id, resource in self.functions().items():
            if not enabled(logical_id):
                continue
            events = resource.get("Properties", {}).get("Events", {})
            for name, event in events.items():
                if event.get("Type") == event_type:
                    yield FunctionEvent(logical_id, str(name), event.get("Properties", {}))

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with ``Globals.Function`` merged in as SAM merges them: the
        function's value wins, lists (``Layers``) are the global entries then the function's."""
        defaults = copy.deepcopy(self.body.get("Globals", {}).get("Function", {}))
        own = copy.deepcopy(self.resources[logical_id].get("Properties", {}))
        merged = {**defaults, **own}
        for key, value in defaults.items():
            if isinstance(value, list) and isinstance(own.get(key), list):
                merged[key] = value + own[key]
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        if variables:
            merged["Environment"] = {"Variables": variables}
        return merged


_CACHE: dict[tuple[Path, float], Template] = {}


def parse_template_text(text: str) -> dict[str, Any]:
    """Template text as data: short tags such as ``!Ref`` become their long dict form."""
    # _TemplateLoader subclasses yaml.SafeLoader: no arbitrary objects.
    body: dict[str, Any] = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506  # nosec B506
    return body


def load_template(path: Path) -> Template:
    """Parses the template once per file version (tests call this per test)."""
    path = path.resolve()
    key = (path, path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = Template(path=path, body=parse_template_text(path.read_text()))
    return _CACHE[key]
