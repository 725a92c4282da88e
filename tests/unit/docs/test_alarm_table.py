"""The runbook's alarm table is generated from template.yaml's alarms and one file of actions
(issue 25, point 4: no fact stated twice); the committed table is what the generator makes."""

from __future__ import annotations

from typing import Any

import pytest

from scripts import sam_template
from scripts.generate_alarm_table import (
    RUNBOOK,
    AlarmTableError,
    load_actions,
    render,
    table,
)

Template = dict[str, Any]


@pytest.fixture
def template() -> Template:
    """The template as written; a copy each test may change."""
    return sam_template.load()


def test_given_the_template_and_actions_when_the_table_is_generated_then_the_runbook_matches(
    template: Template,
) -> None:
    text = RUNBOOK.read_text()

    assert render(text, template, load_actions()) == text, "stale: run `make docs`"


def test_given_an_alarm_then_its_row_says_its_description_and_action(template: Template) -> None:
    actions = load_actions()

    rows = table(template, actions).splitlines()

    row = next(r for r in rows if r.startswith("| `AuthorizerErrorsAlarm` |"))
    description = template["Resources"]["AuthorizerErrorsAlarm"]["Properties"]["AlarmDescription"]
    assert row == (
        f"| `AuthorizerErrorsAlarm` | {description} | "
        f"{' '.join(actions['AuthorizerErrorsAlarm'].split())} |"
    )
    assert len(rows) == 2 + len(sam_template.resources_of_type(template, "AWS::CloudWatch::Alarm"))


def test_given_a_new_alarm_without_an_action_then_the_table_is_refused(template: Template) -> None:
    template["Resources"]["NewQueueDepthAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmDescription": "A new queue holds messages"},
    }

    with pytest.raises(AlarmTableError, match="no entry for \\['NewQueueDepthAlarm'\\]"):
        table(template, load_actions())


def test_given_an_action_for_no_alarm_then_the_table_is_refused(template: Template) -> None:
    actions = {**load_actions(), "RemovedAlarm": "Nothing"}

    with pytest.raises(AlarmTableError, match="no such alarm: \\['RemovedAlarm'\\]"):
        table(template, actions)


def test_given_an_alarm_without_a_description_then_the_table_is_refused(template: Template) -> None:
    del template["Resources"]["HttpApi5xxAlarm"]["Properties"]["AlarmDescription"]

    with pytest.raises(AlarmTableError, match="HttpApi5xxAlarm has no AlarmDescription"):
        table(template, load_actions())


def test_given_a_pipe_in_a_text_then_the_cell_keeps_the_row_intact(template: Template) -> None:
    actions = {**load_actions(), "HttpApi5xxAlarm": "a | b\nc"}

    row = next(r for r in table(template, actions).splitlines() if "`HttpApi5xxAlarm`" in r)

    assert row.endswith("| a \\| b c |")
