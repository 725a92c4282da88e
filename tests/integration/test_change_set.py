"""The production change set: shown before approval, then exactly that one executed (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import change_set

STACK = "userflow-prod"


def _template(*queues: str) -> str:
    return json.dumps(
        {"Resources": {name: {"Type": "AWS::SQS::Queue", "Properties": {}} for name in queues}}
    )


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name="us-east-1")


def _propose(cloudformation: Any, kind: str, *queues: str) -> str:
    arn: str = cloudformation.create_change_set(
        StackName=STACK,
        ChangeSetName=f"samcli-deploy-{len(queues)}",
        TemplateBody=_template(*queues),
        ChangeSetType=kind,
    )["Id"]
    return arn


def test_given_a_proposed_stack_when_shown_then_its_arn_and_changes_are_printed_for_review(
    cloudformation: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    arn = _propose(cloudformation, "CREATE", "Audit")

    assert change_set.show(cloudformation, STACK) == 0

    out, err = capsys.readouterr()
    assert out.strip() == arn
    assert "| Add | Audit | AWS::SQS::Queue |" in err
    assert "Audit" in summary.read_text()


def test_given_the_shown_change_set_when_executed_then_the_stack_has_its_resources(
    cloudformation: Any,
) -> None:
    arn = _propose(cloudformation, "CREATE", "Audit")

    assert change_set.execute(cloudformation, STACK, arn) == 0

    resources = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in resources] == ["Audit"]


def test_given_no_change_when_shown_and_executed_then_both_say_so_and_succeed(
    cloudformation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template("Audit"))

    assert change_set.show(cloudformation, STACK) == 0
    assert change_set.execute(cloudformation, STACK, "") == 0

    out, err = capsys.readouterr()
    assert out == ""
    assert "no change to deploy" in err
    assert "nothing to execute" in err
