"""A provisioned moto stack as the operator commands find it: recorded as `userflow local` records
its stack, with alarms as CloudFormation makes them on AWS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from userflow.stack import Stack


def record_as_local(stack: Stack, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records the stack as `userflow local` does, so commands need no flags."""
    state = {
        "pid": os.getpid(),  # a running stack: state left by a dead one is ignored
        "stack_name": stack.name,
        "region": stack.region,
        "endpoint_url": None,
        "resources": stack.resources,
        "api_url": None,
    }
    (directory / "local.json").write_text(json.dumps(state))
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(directory))


def stack_alarm(stack: Stack, logical_id: str, reason: str | None = None) -> str:
    """One of the stack's alarms as CloudFormation makes it on AWS (the local stack makes none),
    in ALARM with ``reason``, else in its first state; its name."""
    cloudwatch = stack.client("cloudwatch")
    name = f"{stack.name}-{logical_id}-ABC123"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    if reason is not None:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason)
    stack.resources[logical_id] = {"physical_id": name, "type": "AWS::CloudWatch::Alarm"}
    return name
