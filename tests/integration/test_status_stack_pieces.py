"""`userflow status` and the DLQ commands when a piece of the stack is missing: a queue deleted
by hand, or an alarm topic nobody subscribed to. Each test has a fresh stack of its own (the
module-wide stack of test_status_command.py would keep what one test deletes)."""

from __future__ import annotations

import pytest

from tests.integration.test_status_command import local  # noqa: F401 - the fixture
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


def test_given_the_alarm_topic_when_nobody_subscribed_then_status_says_alarms_reach_nobody(
    local: Stack,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["status"]) == 0
    nobody = capsys.readouterr().out
    sqs = local.client("sqs")
    queue = sqs.create_queue(QueueName="on-call-pager")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    local.client("sns").subscribe(
        TopicArn=local.physical_id("AlarmTopic"), Protocol="sqs", Endpoint=arn["QueueArn"]
    )

    assert main(["status"]) == 0
    somebody = capsys.readouterr().out

    assert "! alarm topic: no confirmed subscriber, so alarms notify nobody" in nobody
    assert "alarm topic: 1 confirmed subscriber(s)" in somebody
