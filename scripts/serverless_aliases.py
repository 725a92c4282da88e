"""References to SAM's alias of a function (`!Ref KeyRotationFunction.Alias`) in resources that
serverless.yml carries, such as a Lambda permission or a rotation schedule.

SAM's alias (`live`) always exists. osls makes an alias (`snapstart`) only for a function with
SnapStart, and points its own events at it then, at the function otherwise; with SnapStart set by
a parameter, which one is decided while packaging. A carried resource must invoke what osls'
events invoke, and wait for the alias when there is one. osls resolves nested variables while
packaging, so the reference and the resource's DependsOn take their value from `custom`, picked
by the parameter's value: `${self:custom.snapStartTargets.<Function>.${param:SnapStart}}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from scripts.serverless_naming import GeneratorError, Renames, function_logical_id, normalized

TARGETS = "snapStartTargets"
DEPENDS_ON = "snapStartDependsOn"
_PARAMETER = re.compile(r"^\$\{strToBool\(\$\{param:([A-Za-z0-9]+)\}\)\}$")


def osls_alias(function: str) -> str:
    """osls' logical ID of a function's SnapStart alias (naming.js)."""
    return f"{normalized(function)}SnapStartLambdaAlias"


def _parameter(snap_start: Any) -> str | None:
    match = _PARAMETER.match(snap_start) if isinstance(snap_start, str) else None
    return match.group(1) if match else None


def alias_values(
    aliases: dict[str, str], snap_starts: dict[str, Any], renames: Renames
) -> dict[str, Any]:
    """Sets what each SAM alias becomes in ``renames``; for each function whose alias a
    parameter switches, its two targets (they go to `custom` once a resource refers to them)."""
    switched: dict[str, Any] = {}
    for alias, function in aliases.items():
        on = {"Ref": osls_alias(function)}
        off = {"Fn::GetAtt": [function_logical_id(function), "Arn"]}
        snap_start = snap_starts.get(function)
        parameter = _parameter(snap_start)
        if parameter:
            switched[function] = {"true": on, "false": off}
            value: Any = f"${{self:custom.{TARGETS}.{function}.${{param:{parameter}}}}}"
        else:
            value = on if snap_start is True else off
        renames.values[alias] = value
    return switched


def depends_on(
    logical_id: str,
    written: dict[str, Any],
    carried: dict[str, Any],
    *,
    aliases: dict[str, str],
    snap_starts: dict[str, Any],
    switched: dict[str, Any],
) -> dict[str, Any]:
    """Makes ``carried`` (``written`` as serverless.yml carries it) wait for the osls aliases it
    invokes; the `custom` entries its references and its DependsOn need."""
    text = json.dumps(written)
    functions = sorted({f for a, f in aliases.items() if f'{{"Ref": "{a}"}}' in text})
    custom: dict[str, Any] = {}
    targets = {f: switched[f] for f in functions if f in switched}
    if targets:
        custom[TARGETS] = targets
    before = carried.get("DependsOn", [])
    before = [before] if isinstance(before, str) else list(before)
    static = [osls_alias(f) for f in functions if snap_starts.get(f) is True]
    parameters = {_parameter(snap_starts.get(f)) for f in targets}
    if len(parameters) > 1:
        raise GeneratorError(f"{logical_id}: invokes aliases that different parameters switch")
    if not parameters:
        if static:
            carried["DependsOn"] = before + static
        return custom
    (parameter,) = parameters
    maybe = [osls_alias(f) for f in targets]
    carried["DependsOn"] = f"${{self:custom.{DEPENDS_ON}.{logical_id}.${{param:{parameter}}}}}"
    when = {"true": before + static + maybe, "false": before + static}
    return {**custom, DEPENDS_ON: {logical_id: when}}
