"""`userflow status` and the DLQ commands when a piece of the stack is missing: a queue deleted
by hand, or an alarm topic nobody subscribed to. Each test has a fresh stack of its own (the
module-wide stack of test_status_command.py would keep what one test deletes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.test_auth_operations import record_as_local
from tests.integration.cli.test_status_command import (
    local,  # noqa: F401 - the fixture
    stack_alarm,
)
from userflow.cli import main
from userflow.stack import Stack


def test_given_a_queue_deleted_from_the_stack_when_operators_look_then_it_is_named_and_dlqs_work(
    local: Stack,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs = local.client("sqs")
    sqs.delete_queue(QueueUrl=local.physical_id("ExampleSubscriberQueue"))

    status_code = main(["status"])
    status = capsys.readouterr().out
    list_code = main(["dlq", "list"])
    listed = capsys.readouterr().out
    replay_code = main(["dlq", "replay", "--queue", "ExampleSubscriberDLQ"])
    replayed = capsys.readouterr()

    assert status_code == 1
    assert "! ExampleSubscriberQueue: missing (deleted? redeploy to recreate)" in status
    assert "needs attention" in status
    assert list_code == 0
    assert "ExampleSubscriberDLQ" in listed
    assert "ExampleSubscriberQueue" not in listed
    assert replay_code == 0, replayed.err


def test_given_alarms_whose_topic_nobody_subscribed_when_status_runs_then_it_needs_attention(
    local: Stack,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["status"]) == 0  # no alarm exists here (the local stack has none)
    no_alarms = capsys.readouterr().out
    stack_alarm(local, "HttpApi5xxAlarm")
    record_as_local(local, tmp_path, monkeypatch)  # the stack now has that alarm

    nobody_code = main(["status"])
    nobody = capsys.readouterr().out
    sqs = local.client("sqs")
    queue = sqs.create_queue(QueueName="on-call-pager")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    local.client("sns").subscribe(
        TopicArn=local.physical_id("AlarmTopic"), Protocol="sqs", Endpoint=arn["QueueArn"]
    )
    somebody_code = main(["status"])
    somebody = capsys.readouterr().out

    assert "! alarm topic" not in no_alarms
    assert nobody_code == 1  # it warns, so it says so in its exit status
    assert "! alarm topic: no confirmed subscriber, so alarms notify nobody" in nobody
    assert "needs attention (the alarm topic has no confirmed subscriber)" in nobody
    assert somebody_code == 0
    assert "alarm topic: 1 confirmed subscriber(s)" in somebody
