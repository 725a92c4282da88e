"""Local EventBridge delivers to each rule target on its own, as AWS does: PutEvents always accepts,
a broken target is retried or dead-lettered with AWS's attributes, and no other target notices."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from samlocal.aws_endpoint import moto_events
from samlocal.eventbridge.delivery import (
    Delivery,
    DeliveryFailed,
    TargetDelivery,
    send_to_queue,
)

BUS = "bus"


@dataclass
class Bus:
    """A bus with a subscriber rule (queue + DLQ) and a second, healthy subscriber rule."""

    events: Any
    sqs: Any
    queues: dict[str, str]
    rules: dict[str, str]

    def arn(self, queue: str) -> str:
        return f"arn:aws:sqs:us-east-1:123456789012:{queue}"

    def publish(self, *ids: str) -> dict[str, Any]:
        response: dict[str, Any] = self.events.put_events(
            Entries=[
                {
                    "Source": "test",
                    "DetailType": "Thing",
                    "Detail": json.dumps({"n": n}),
                    "EventBusName": BUS,
                }
                for n in ids
            ]
        )
        return response

    def received(self, queue: str) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queues[queue], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return messages  # type: ignore[no-any-return]

    def details(self, queue: str) -> list[str]:
        return [json.loads(m["Body"])["detail"]["n"] for m in self.received(queue)]

    def allow(self, queue: str, rule: str) -> None:
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.arn(queue),
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.rules[rule]}},
                }
            ]
        }
        self.sqs.set_queue_attributes(
            QueueUrl=self.queues[queue], Attributes={"Policy": json.dumps(policy)}
        )


def _bus(retry_policy: dict[str, int] | None = None) -> Bus:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queues = {
        name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("q", "dlq", "healthy")
    }
    rules = {}
    for rule in ("subscriber", "other"):
        rules[rule] = events.put_rule(
            Name=rule, EventBusName=BUS, EventPattern=json.dumps({"source": ["test"]})
        )["RuleArn"]
    bus = Bus(events, sqs, queues, rules)
    target: dict[str, Any] = {
        "Id": "q",
        "Arn": bus.arn("q"),
        "DeadLetterConfig": {"Arn": bus.arn("dlq")},
    }
    if retry_policy:
        target["RetryPolicy"] = retry_policy
    events.put_targets(Rule="subscriber", EventBusName=BUS, Targets=[target])  # type: ignore[list-item]
    events.put_targets(
        Rule="other", EventBusName=BUS, Targets=[{"Id": "h", "Arn": bus.arn("healthy")}]
    )
    bus.allow("q", "subscriber")
    bus.allow("dlq", "subscriber")
    bus.allow("healthy", "other")
    return bus


@pytest.fixture
def delivery() -> Iterator[TargetDelivery]:
    delivery = TargetDelivery()
    moto_events.install(delivery)
    try:
        with mock_aws():
            yield delivery
    finally:
        moto_events.uninstall()


def test_given_moto_as_released_when_a_target_queue_is_deleted_then_putevents_itself_fails() -> (
    None
):
    with mock_aws():
        bus = _bus()
        bus.sqs.delete_queue(QueueUrl=bus.queues["q"])

        with pytest.raises(ClientError):
            bus.publish("1")


def test_given_a_deleted_target_queue_when_publishing_then_only_that_target_dead_letters(
    delivery: TargetDelivery,
) -> None:
    bus = _bus()
    bus.sqs.delete_queue(QueueUrl=bus.queues["q"])

    response = bus.publish("1", "2")
    delivery.drain()

    assert response["FailedEntryCount"] == 0
    assert sorted(bus.details("healthy")) == ["1", "2"]
    dead = bus.received("dlq")
    assert sorted(json.loads(m["Body"])["detail"]["n"] for m in dead) == ["1", "2"]
    attributes = {k: v["StringValue"] for k, v in dead[0]["MessageAttributes"].items()}
    assert attributes == {
        "RULE_ARN": bus.rules["subscriber"],
        "TARGET_ARN": bus.arn("q"),
        "ERROR_CODE": "NO_RESOURCE",
        "ERROR_MESSAGE": "The specified queue does not exist.",
        "RETRY_ATTEMPTS": "0",
    }
    assert json.loads(dead[0]["Body"])["time"].endswith("Z")


@pytest.mark.parametrize(
    "policy",
    [
        None,
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]},
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": "arn:aws:events:x:1:rule/bus/other"}
                    },
                }
            ]
        },
    ],
    ids=["no-policy", "deny-all", "another-rule-only"],
)
def test_given_a_queue_policy_not_allowing_the_rule_when_publishing_then_it_dead_letters(
    delivery: TargetDelivery, policy: dict[str, Any] | None
) -> None:
    bus = _bus()
    bus.sqs.set_queue_attributes(
        QueueUrl=bus.queues["q"], Attributes={"Policy": json.dumps(policy) if policy else ""}
    )

    bus.publish("1")
    delivery.drain()

    assert bus.details("q") == []
    assert bus.details("healthy") == ["1"]
    (dead,) = bus.received("dlq")
    assert dead["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"


def _failing(times: int) -> Any:
    """The real sender, failing retryably the first ``times`` calls to queue ``q``."""
    calls: list[Delivery] = []

    def send(delivery: Delivery) -> None:
        if delivery.target["Id"] == "q":
            calls.append(delivery)
        if delivery.target["Id"] == "q" and len(calls) <= times:
            raise DeliveryFailed("THROTTLING", "Rate exceeded", retryable=True)
        send_to_queue(delivery)

    send.calls = calls  # type: ignore[attr-defined]
    return send


def _dead_letter_attributes(bus: Bus) -> dict[str, str]:
    """The message attributes of the one message in the dead-letter queue."""
    (dead,) = bus.received("dlq")
    return {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}


def test_given_a_target_failing_for_a_while_when_publishing_then_it_is_retried_and_delivered(
    delivery: TargetDelivery,
) -> None:
    delivery.send = send = _failing(times=2)
    bus = _bus(retry_policy={"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60})

    bus.publish("1")
    delivery.drain()

    assert bus.details("q") == ["1"]
    assert bus.received("dlq") == []
    assert len(send.calls) == 3


def test_given_a_target_failing_past_its_retry_policy_when_publishing_then_dead_lettered(
    delivery: TargetDelivery,
) -> None:
    delivery.send = _failing(times=100)
    bus = _bus(retry_policy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60})

    bus.publish("1")
    delivery.drain()

    attributes = _dead_letter_attributes(bus)
    assert attributes["ERROR_CODE"] == "THROTTLING"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert bus.details("healthy") == ["1"]


def test_given_a_target_failing_past_the_event_age_when_publishing_then_dead_lettered(
    delivery: TargetDelivery,
) -> None:
    started, skew = time.monotonic(), [0.0]
    delivery.clock = lambda: time.monotonic() + skew[0]
    failing = _failing(times=100)

    def send_while_time_passes(event: Delivery) -> None:
        if event.target["Id"] == "q":
            skew[0] += 61  # each failed attempt "takes" a minute
        failing(event)

    delivery.send = send_while_time_passes
    bus = _bus(retry_policy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 120})

    bus.publish("1")
    delivery.drain()

    attributes = _dead_letter_attributes(bus)
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attributes["RETRY_ATTEMPTS"] == "1"
    assert time.monotonic() - started < 5


def test_given_an_event_when_delivered_to_a_queue_then_the_whole_event_as_aws_sends_it(
    delivery: TargetDelivery,
) -> None:
    bus = _bus()

    bus.publish("1")
    delivery.drain()

    event = json.loads(bus.received("healthy")[0]["Body"])
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["account"] == "123456789012"


def test_given_a_disabled_rule_when_publishing_then_its_targets_get_nothing(
    delivery: TargetDelivery,
) -> None:
    bus = _bus()
    bus.events.disable_rule(Name="other", EventBusName=BUS)

    bus.publish("1")
    delivery.drain()

    assert bus.details("healthy") == []
    assert bus.details("q") == ["1"]
