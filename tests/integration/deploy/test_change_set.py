"""The production change set: this run's is created, shown, then exactly that one executed; a
rejected run's never lingers to be shown or executed later (moto)."""

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
SETTINGS = {
    "stack_name": STACK,
    "s3_prefix": STACK,
    "capabilities": "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND",
    "parameter_overrides": "Stage=prod",
    "tags": "project=userflow environment=prod",
}


def _template(*queues: str) -> str:
    return json.dumps(
        {
            "Parameters": {
                "Stage": {"Type": "String", "Default": "staging"},
                "AlarmEmail": {"Type": "String", "Default": ""},
            },
            "Resources": {name: {"Type": "AWS::SQS::Queue", "Properties": {}} for name in queues},
        }
    )


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield (
            boto3.client("cloudformation", region_name="us-east-1"),
            boto3.client("s3", region_name="us-east-1"),
        )


def _create(clients: tuple[Any, Any], run: str, *queues: str) -> str | None:
    cloudformation, s3 = clients
    return change_set.create(
        cloudformation,
        s3,
        settings=SETTINGS,
        template=_template(*queues),
        declared_parameters=["Stage", "AlarmEmail"],
        name=change_set.run_change_set_name({"GITHUB_RUN_ID": run, "GITHUB_RUN_ATTEMPT": "1"}),
    )


def test_given_a_ci_run_when_its_change_set_is_named_then_by_the_run_and_its_attempt() -> None:
    named = change_set.run_change_set_name({"GITHUB_RUN_ID": "812", "GITHUB_RUN_ATTEMPT": "2"})

    assert named == "userflow-run-812-2"
    assert change_set.run_change_set_name({}, now=1700000000) == "userflow-manual-1700000000"


def test_given_a_rejected_runs_change_set_when_a_new_run_plans_then_only_the_new_one_exists(
    clients: tuple[Any, Any],
) -> None:
    cloudformation, _ = clients
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template("Audit"))
    rejected = _create(clients, "100", "Audit", "Rejected")
    assert rejected

    current = _create(clients, "101", "Audit", "Approved")

    listed = cloudformation.list_change_sets(StackName=STACK)["Summaries"]
    assert [s["ChangeSetName"] for s in listed] == ["userflow-run-101-1"]
    assert current
    assert current == listed[0]["ChangeSetId"]
    # The rejected run's change set can no longer be executed by anyone.
    assert change_set.execute(cloudformation, STACK, rejected) == 1
    assert change_set.execute(cloudformation, STACK, current) == 0
    resources = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    assert {r["LogicalResourceId"] for r in resources} == {"Audit", "Approved"}


def test_given_a_change_set_when_executed_twice_then_the_second_time_is_refused(
    clients: tuple[Any, Any],
) -> None:
    cloudformation, _ = clients
    arn = _create(clients, "7", "Audit")
    assert arn

    assert change_set.execute(cloudformation, STACK, arn) == 0
    assert change_set.execute(cloudformation, STACK, arn) == 1


def test_given_the_plan_when_created_then_samconfigs_settings_and_previous_values_apply(
    clients: tuple[Any, Any],
) -> None:
    cloudformation, _ = clients
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=_template("Audit"),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": "staging"},
            {"ParameterKey": "AlarmEmail", "ParameterValue": "oncall@example.com"},
        ],
    )

    sent: list[dict[str, Any]] = []
    real = cloudformation.create_change_set

    def recorded(**request: Any) -> Any:
        sent.append(request)
        return real(**request)

    cloudformation.create_change_set = recorded  # moto keeps neither capabilities nor tags

    arn = _create(clients, "9", "Audit", "More")

    described = cloudformation.describe_change_set(ChangeSetName=arn)
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert parameters == {"Stage": "prod", "AlarmEmail": "oncall@example.com"}
    [request] = sent
    assert request["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert {"Key": "environment", "Value": "prod"} in request["Tags"]
    assert {"ParameterKey": "AlarmEmail", "UsePreviousValue": True} in request["Parameters"]


def test_given_a_plan_when_shown_then_its_changes_reach_the_run_summary(
    clients: tuple[Any, Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloudformation, _ = clients
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    arn = _create(clients, "5", "Audit")
    assert arn

    change_set.show(cloudformation, STACK, arn)

    assert "| Add | Audit | AWS::SQS::Queue |" in capsys.readouterr().err
    assert "Audit" in summary.read_text()


def test_given_no_change_when_planned_and_executed_then_both_say_so_and_succeed(
    clients: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation, _ = clients
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template("Audit"))

    arn = _create(clients, "11", "Audit")

    assert arn is None
    assert change_set.execute(cloudformation, STACK, "") == 0
    err = capsys.readouterr().err
    assert "no change to deploy" in err
    assert "nothing to execute" in err
    assert cloudformation.list_change_sets(StackName=STACK)["Summaries"] == []


def test_given_a_template_too_large_to_pass_inline_then_it_goes_through_the_bucket(
    clients: tuple[Any, Any],
) -> None:
    cloudformation, s3 = clients
    s3.create_bucket(Bucket="artifacts")
    large = json.loads(_template("Audit"))
    large["Description"] = "x" * 1000
    large["Metadata"] = {"padding": ["y" * 1000] * 60}

    arn = change_set.create(
        cloudformation,
        s3,
        settings=SETTINGS,
        template=json.dumps(large),
        declared_parameters=["Stage"],
        name="userflow-run-12-1",
        bucket="artifacts",
    )

    assert arn
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]]
    assert keys == ["userflow-prod/userflow-run-12-1.template"]
