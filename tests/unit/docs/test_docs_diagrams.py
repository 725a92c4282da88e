"""The diagrams of docs/architecture.md and docs/events.md draw every path an event takes off the
bus, as template.yaml wires it: each rule, its target queue, the function that consumes the queue
and where what fails ends up (the target's DLQ, the queue's redrive DLQ). The runbooks show the
`userflow` command where the CLI does the job, not the raw AWS call it makes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scripts import sam_template

DOCS = sam_template.ROOT / "docs"
# AWS CLI calls a `userflow` command makes for the operator (with the checks and waiting around it).
SUPERSEDED = {
    "aws events start-replay": "userflow events replay",
    "aws sqs start-message-move-task": "userflow dlq replay",
    "aws sqs receive-message": "userflow dlq show",
    "aws sqs delete-message": "userflow dlq drop",
    "aws sqs purge-queue": "userflow dlq drop",
    "aws cloudwatch describe-alarms": "userflow status",
}


def _diagram(page: Path) -> str:
    """The page's first code block: its diagram."""
    found = re.search(r"```\n(.*?)```", page.read_text(), re.DOTALL)
    assert found, f"{page.name} has no diagram"
    return found.group(1)


def _target(value: Any) -> str:
    """The logical id an ``Fn::GetAtt`` (or ``Ref``) names."""
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return str(value["Ref"])


def _paths(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each rule: the resources on its path (targets, their DLQs, consuming functions)."""
    resources = template["Resources"]
    queues = sam_template.resources_of_type(template, "AWS::SQS::Queue")
    consumers: dict[str, set[str]] = {}
    for name, function in sam_template.resources_of_type(template, sam_template.FUNCTION).items():
        for event in function["Properties"].get("Events", {}).values():
            if event.get("Type") == "SQS":
                queue = _target(event["Properties"]["Queue"])
                consumers.setdefault(queue, set()).add(name)
    paths: dict[str, set[str]] = {}
    for rule, resource in sam_template.resources_of_type(template, "AWS::Events::Rule").items():
        on_path = {rule}
        for target in resource["Properties"].get("Targets", []):
            queue = _target(target["Arn"])
            on_path.add(queue)
            if "DeadLetterConfig" in target:
                on_path.add(_target(target["DeadLetterConfig"]["Arn"]))
            redrive = queues.get(queue, resources.get(queue, {})).get("Properties", {})
            if "RedrivePolicy" in redrive:
                on_path.add(_target(redrive["RedrivePolicy"]["deadLetterTargetArn"]))
            on_path |= consumers.get(queue, set())
        paths[rule] = on_path
    return paths


@pytest.fixture(scope="module")
def paths() -> dict[str, set[str]]:
    return _paths(sam_template.load())


def test_given_the_template_then_the_webhook_path_is_one_of_its_rules(
    paths: dict[str, set[str]],
) -> None:
    assert paths["WebhookDeliveryRule"] == {
        "WebhookDeliveryRule",
        "WebhookQueue",
        "WebhookDeadLetterQueue",
        "WebhookDeliveryFunction",
    }


def test_given_every_rule_on_the_bus_then_the_events_diagram_draws_its_whole_path(
    paths: dict[str, set[str]],
) -> None:
    diagram = _diagram(DOCS / "events.md")

    missing = {name for path in paths.values() for name in path if name not in diagram}

    assert missing == set()


def test_given_a_rule_feeding_a_function_then_the_architecture_diagram_draws_its_path(
    paths: dict[str, set[str]],
) -> None:
    diagram = _diagram(DOCS / "architecture.md")
    delivering = [path for path in paths.values() if any("Function" in n for n in path)]

    missing = {name for path in delivering for name in path if name not in diagram}

    assert delivering
    assert missing == set()


def test_given_the_docs_then_they_show_the_userflow_command_where_the_cli_does_the_job() -> None:
    shown = {
        f"{page.relative_to(DOCS)}: {call} (use `{command}`)"
        for page in DOCS.rglob("*.md")
        for call, command in SUPERSEDED.items()
        if call in page.read_text()
    }

    assert shown == set()
