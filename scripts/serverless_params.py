"""Template parameters in serverless.yml: osls params feeding CloudFormation parameters.

osls v3 passes no parameter values to CloudFormation, so each template parameter keeps its
definition (CloudFormation still checks `AllowedValues`, `AllowedPattern`...) with an osls
variable as its default: `${param:Name}`, whose value is the template's default (`params.default`),
the stage's override from samconfig.toml (`params.<stage>`) or `--param "Name=value"`; `Stage` is
the osls stage itself (`${sls:stage}`).
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Collection
from typing import Any

from scripts.serverless_stack import SortedStack

STAGE_PARAMETER = "Stage"


def serverless_string(value: Any, parameters: Collection[str]) -> str | None:
    """A template value as an osls string (``parameters`` as osls variables), if it can be one."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        name = value["Ref"]
        return "${sls:stage}" if name == STAGE_PARAMETER else f"${{param:{name}}}"
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        texts = [serverless_string(part, parameters) for part in parts]
        return None if None in texts else separator.join(str(t) for t in texts)
    return None


def stage_params(samconfig: str) -> dict[str, dict[str, str]]:
    """Each environment's `sam deploy` `parameter_overrides` (samconfig.toml), as osls params of
    the stage it deploys: one place for both tools' per-stage settings."""
    stages: dict[str, dict[str, str]] = {}
    for environment, commands in tomllib.loads(samconfig).items():
        if not isinstance(commands, dict):
            continue  # `version`
        overrides = commands.get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
        items = shlex.split(overrides) if isinstance(overrides, str) else list(overrides)
        values = dict(str(item).split("=", 1) for item in items)
        stage = values.pop(STAGE_PARAMETER, environment)
        if values:
            stages[stage] = values
    return stages


def parameters(stack: SortedStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """(CloudFormation parameters defaulting to osls params, the params' default values)."""
    carried: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for name, parameter in stack.sam.get("Parameters", {}).items():
        carried[name] = {**parameter, "Default": serverless_string({"Ref": name}, [name])}
        if name != STAGE_PARAMETER and "Default" in parameter:
            defaults[name] = parameter["Default"]
    return carried, defaults
