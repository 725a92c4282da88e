"""Writes the runbook's alarm table (docs/operating/runbook.md) from template.yaml's alarms.

Each fact has one home: what an alarm means is its ``AlarmDescription`` (the text its notification
carries too), and what to do about it is its entry in docs/operating/alarm-actions.yaml. The
table, one row per alarm in that file's order, is written between two marker lines of the runbook;
an alarm without an entry, or an entry naming no alarm, is refused. `make docs` runs this; a test
fails when the committed table is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from scripts import sam_template
from scripts.generated_sections import replace_section

RUNBOOK = sam_template.ROOT / "docs" / "operating" / "runbook.md"
ACTIONS = sam_template.ROOT / "docs" / "operating" / "alarm-actions.yaml"
ALARM = "AWS::CloudWatch::Alarm"
BEGIN = "<!-- BEGIN generated: alarm table (python -m scripts.generate_alarm_table) -->\n"
END = "<!-- END generated: alarm table -->\n"


class AlarmTableError(ValueError):
    """The template's alarms and the actions file do not match one to one."""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _meaning(name: str, alarm: dict[str, Any]) -> str:
    description = alarm.get("Properties", {}).get("AlarmDescription")
    if not isinstance(description, str) or not description.strip():
        raise AlarmTableError(f"{name} has no AlarmDescription (what the alarm means)")
    return description


def table(template: dict[str, Any], actions: dict[str, str]) -> str:
    """The markdown table: alarm, what it means, what to do."""
    alarms = sam_template.resources_of_type(template, ALARM)
    missing = sorted(set(alarms) - set(actions))
    unknown = sorted(set(actions) - set(alarms))
    if missing or unknown:
        raise AlarmTableError(
            f"{ACTIONS.name} must hold one entry per alarm of template.yaml: "
            f"no entry for {missing or 'none'}; no such alarm: {unknown or 'none'}"
        )
    rows = ["| alarm | what it means | what to do |", "| --- | --- | --- |"]
    for name, action in actions.items():
        rows.append(f"| `{name}` | {_cell(_meaning(name, alarms[name]))} | {_cell(action)} |")
    return "\n".join(rows) + "\n"


def load_actions(path: Path = ACTIONS) -> dict[str, str]:
    actions = yaml.safe_load(path.read_text())
    if not isinstance(actions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in actions.items()
    ):
        raise AlarmTableError(f"{path.name} must map each alarm's name to markdown text")
    return actions


def render(runbook: str, template: dict[str, Any], actions: dict[str, str]) -> str:
    """The runbook text with its generated table made from ``template`` and ``actions``."""
    return replace_section(runbook, BEGIN, END, f"\n{table(template, actions)}\n", "alarm table")


def main() -> int:
    text = RUNBOOK.read_text()
    try:
        rendered = render(text, sam_template.load(), load_actions())
    except AlarmTableError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    if rendered != text:
        RUNBOOK.write_text(rendered)
        sys.stdout.write(f"rewrote the alarm table in {RUNBOOK.relative_to(sam_template.ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
