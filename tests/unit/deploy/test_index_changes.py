"""The offline check that a template's table indexes can follow the last release's in one
CloudFormation update (scripts/check_index_changes.py): one index created or deleted at most,
none changed in place."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from scripts import sam_template
from scripts.check_index_changes import RECORD, main, problems, table_indexes

TABLE = "UserRegistrationTable"


def _index(name: str, projection: str = "KEYS_ONLY") -> dict[str, Any]:
    return {
        "KeySchema": [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": projection},
    }


RELEASED = {TABLE: {"GSI1": _index("GSI1"), "GSI2": _index("GSI2")}}


def _with(**indexes: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    current = copy.deepcopy(RELEASED)
    for name, index in indexes.items():
        if index is None:
            del current[TABLE][name]
        else:
            current[TABLE][name] = index
    return current


def test_given_this_template_then_its_indexes_can_follow_the_last_release() -> None:
    released = json.loads(RECORD.read_text())

    assert problems(released, table_indexes(sam_template.load())) == []
    assert main([]) == 0


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(_with(), id="unchanged"),
        pytest.param(_with(GSI3=_index("GSI3")), id="one added"),
        pytest.param(_with(GSI2=None), id="one removed"),
    ],
)
def test_given_at_most_one_creation_or_deletion_then_deployable(
    current: dict[str, dict[str, Any]],
) -> None:
    assert problems(RELEASED, current) == []


@pytest.mark.parametrize(
    ("current", "why"),
    [
        pytest.param(_with(GSI3=_index("GSI3"), GSI4=_index("GSI4")), "2 index", id="two added"),
        pytest.param(_with(GSI1=None, GSI2=None), "2 index", id="two removed"),
        pytest.param(_with(GSI2=None, GSI3=_index("GSI3")), "2 index", id="one swapped"),
        pytest.param(_with(GSI2=_index("GSI2", "ALL")), "changed its", id="new projection"),
        pytest.param(_with(GSI2=_index("GSIX")), "changed its", id="new key schema"),
    ],
)
def test_given_more_than_one_index_operation_then_refused_naming_why(
    current: dict[str, dict[str, Any]], why: str
) -> None:
    found = problems(RELEASED, current)

    assert len(found) == 1
    assert found[0].startswith(f"{TABLE}: ")
    assert why in found[0]


def test_given_a_template_with_two_new_indexes_then_the_command_fails(tmp_path: Path) -> None:
    template = sam_template.load()
    table = template["Resources"][TABLE]["Properties"]
    for name in ("GSI8", "GSI9"):
        table["GlobalSecondaryIndexes"].append({"IndexName": name, **_index(name)})
    changed = tmp_path / "template.yaml"
    changed.write_text(json.dumps(template))  # JSON is YAML: the same template, as data

    assert main(["--template", str(changed)]) == 1


def test_given_record_when_written_then_the_template_matches_it(tmp_path: Path) -> None:
    record = tmp_path / "released.json"

    assert main(["--record", "--record-file", str(record)]) == 0
    assert json.loads(record.read_text()) == table_indexes(sam_template.load())
    assert main(["--record-file", str(record)]) == 0
