"""SAM's gradual deployment, which serverless.yml does not carry, and what goes with it.

`DeploymentPreference` makes CodeDeploy shift SAM's `live` alias to a new version (canary or
linear) once a traffic hook function has checked it, and roll it back on the alarms it names.
osls invokes each function itself (or its SnapStart alias, which nothing shifts): a Serverless
deploy moves all traffic at once, and CloudFormation rolls back a deploy that fails. The
Serverless path leaves the gradual deployment out, and with it, consistently, what exists only
for it:
- what SAM generates for it: CodeDeploy's application, deployment groups and service role
  (scripts/serverless_stack.py);
- each traffic hook function, the role it runs with and the log group it logs to (when no other
  function uses them), and every alarm that watches only left-out functions;
- references to those in what is carried: a metric query of an alarm's `Metrics`, and an alarm
  in a dashboard's alarm list, are removed. Any other reference fails generation.
The alarms the deployment rolls back on stay: they still page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from scripts.serverless_naming import GeneratorError, references
from scripts.serverless_stack import GRADUAL_DEPLOYMENT, SortedStack

ALARM = "AWS::CloudWatch::Alarm"
DASHBOARD = "AWS::CloudWatch::Dashboard"
_HOOKS = ("BeforeAllowTrafficHook", "AfterAllowTrafficHook")


@dataclass
class LeftOut:
    """What the Serverless path leaves out with the gradual deployment: resources (logical ID ->
    why) and, for carried resources that referred to them, what was removed from each."""

    resources: dict[str, str] = field(default_factory=dict)
    trimmed: dict[str, list[str]] = field(default_factory=dict)


def traffic_hooks(cfn: dict[str, Any]) -> set[str]:
    """The functions CodeDeploy runs before or after shifting an alias (SAM's `Hooks`)."""
    hooks = set()
    for resource in cfn["Resources"].values():
        update = resource.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        for key in _HOOKS:
            if key in update:
                (hook,) = references(update[key])
                hooks.add(hook)
    return hooks


def leave_out_gradual_deployment(stack: SortedStack) -> LeftOut:
    """Takes the traffic hooks and what exists only for them out of ``stack``; trims the
    references carried resources make to them."""
    left_out = LeftOut()
    hooks = traffic_hooks(stack.cfn)
    unknown = hooks - set(stack.functions)
    if unknown:
        raise GeneratorError(f"traffic hooks {sorted(unknown)} are no functions of the template")
    for hook in sorted(hooks):
        left_out.resources[hook] = "traffic hook (DeploymentPreference Hooks)"
    kept = [f for f in stack.functions if f not in hooks]
    for hook in sorted(hooks):
        properties = stack.resource(hook)["Properties"]
        for kind, value in (
            ("role", properties.get("Role")),
            ("log group", properties.get("LoggingConfig", {}).get("LogGroup")),
        ):
            named = references(value)
            if len(named) == 1 and not any(named & _used_by(stack, f) for f in kept):
                left_out.resources[named.pop()] = f"{kind} of {hook}"
    _leave_out_alarms(stack, left_out)
    for logical_id in stack.carried:
        if stack.resource(logical_id)["Type"] == DASHBOARD:
            _trim_dashboard(stack, logical_id, left_out)
    stack.functions = kept
    stack.carried = [c for c in stack.carried if c not in left_out.resources]
    stack.aliases = {a: f for a, f in stack.aliases.items() if f not in hooks}
    for logical_id, why in left_out.resources.items():
        stack.renames.ids.pop(logical_id, None)
        stack.renames.gone[logical_id] = f"is the {why}, left out with the {GRADUAL_DEPLOYMENT}"
    return left_out


def not_carried_record(stack: SortedStack, left_out: LeftOut) -> dict[str, Any]:
    """What template.yaml has that serverless.yml does not, and why: `custom` entries, so that
    the file itself says it."""
    record: dict[str, Any] = {}
    if stack.not_carried:
        record["notCarriedFromTemplate"] = dict(sorted(stack.not_carried.items()))
    if left_out.resources:
        record["leftOutFromTemplate"] = dict(sorted(left_out.resources.items()))
    if left_out.trimmed:
        record["trimmedFromTemplate"] = dict(sorted(left_out.trimmed.items()))
    return record


def _used_by(stack: SortedStack, function: str) -> set[str]:
    properties = stack.resource(function)["Properties"]
    return references([properties.get("Role"), properties.get("LoggingConfig")])


def _leave_out_alarms(stack: SortedStack, left_out: LeftOut) -> None:
    """Alarms on left-out functions only are left out; an alarm that also watches others loses
    the metric queries of the left-out ones."""
    for logical_id in stack.carried:
        alarm = stack.resource(logical_id)
        if alarm["Type"] != ALARM:
            continue
        properties = alarm["Properties"]
        gone = set(left_out.resources)
        if "Metrics" not in properties:
            watched = references(properties.get("Dimensions", []))
            if watched and watched <= gone:
                left_out.resources[logical_id] = f"alarm on {', '.join(sorted(watched))} only"
            continue
        queries = properties["Metrics"]
        dropped = [q for q in queries if "MetricStat" in q and references(q) & gone]
        if not dropped:
            continue
        kept = [q for q in queries if q not in dropped]
        if not any("MetricStat" in q for q in kept):
            names = sorted({name for q in dropped for name in references(q) & gone})
            left_out.resources[logical_id] = f"alarm on {', '.join(names)} only"
            continue
        for query in dropped:
            expressions = " ".join(str(q.get("Expression", "")) for q in kept)
            if re.search(rf"\b{re.escape(query['Id'])}\b", expressions):
                raise GeneratorError(
                    f"{logical_id}: an expression uses metric {query['Id']} of a left-out resource"
                )
        properties["Metrics"] = kept
        left_out.trimmed[logical_id] = [
            f"metric query {q['Id']} ({', '.join(sorted(references(q) & gone))})" for q in dropped
        ]


def _trim_dashboard(stack: SortedStack, logical_id: str, left_out: LeftOut) -> None:
    """Removes left-out alarms from the alarm lists of a dashboard body (`Fn::Sub` JSON text)."""
    properties = stack.resource(logical_id)["Properties"]
    body = properties.get("DashboardBody")
    if not isinstance(body, dict) or set(body) != {"Fn::Sub"}:
        return
    sub = body["Fn::Sub"]
    text = sub if isinstance(sub, str) else sub[0]
    removed = []
    for alarm in sorted(a for a in left_out.resources if stack.resource(a)["Type"] == ALARM):
        for item in (f'"${{{alarm}.Arn}}"', f'"${{{alarm}}}"'):
            while item in text:
                text = _without_array_item(text, item, logical_id)
                removed.append(f"alarm {alarm}")
    if removed:
        properties["DashboardBody"] = {"Fn::Sub": text if isinstance(sub, str) else [text, sub[1]]}
        left_out.trimmed[logical_id] = removed


def _without_array_item(text: str, item: str, where: str) -> str:
    """``text`` without the first ``item`` (a JSON string) and the comma that separates it from
    its neighbour in a JSON array; still JSON if it was."""
    start = text.index(item)
    before, after = text[:start], text[start + len(item) :]
    if before.rstrip().endswith(","):
        trimmed = before.rstrip()[:-1] + after
    elif before.rstrip().endswith("[") and after.lstrip()[:1] in (",", "]"):
        rest = after.lstrip()
        trimmed = before + (rest[1:].lstrip() if rest.startswith(",") else rest)
    else:
        raise GeneratorError(f"{where}: {item} is not an item of a JSON array")
    if _is_json(text) and not _is_json(trimmed):
        raise GeneratorError(f"{where}: removing {item} would leave invalid JSON")
    return trimmed


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
