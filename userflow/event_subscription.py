"""A temporary subscriber of a stack's lifecycle events, as any consumer subscribes: an SQS
queue, a rule on the user events bus, and the queue policy that lets that rule alone send to it
(`userflow events tail`, the smoke test and the end-to-end tests use it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from domain.events import EVENT_SOURCE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

    from userflow.stack import Stack


def queue_policy_for_rule(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """What a subscriber queue needs so that EventBridge may send to it from that rule alone."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


@contextmanager
def subscription(
    stack: Stack, pattern: dict[str, Any] | None = None, purpose: str = "tail"
) -> Iterator[str]:
    """A temporary queue that receives the lifecycle events matching ``pattern`` (default: all)
    while the block runs; yields its URL. The queue and its rule are removed afterwards."""
    sqs, events = stack.client("sqs"), stack.client("events")
    bus = stack.physical_id("UserEventsBus")
    name = f"userflow-{purpose}-{uuid.uuid4().hex[:12]}"
    try:
        url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true"})[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule_arn = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(pattern or {"source": [EVENT_SOURCE]}),
            Description=f"temporary: userflow {purpose}",
        )["RuleArn"]
        policy = json.dumps(queue_policy_for_rule(queue_arn, rule_arn))
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": purpose, "Arn": queue_arn}])
        yield url
    finally:
        _unsubscribe(sqs, events, bus, name, purpose)


def _unsubscribe(
    sqs: SQSClient, events: EventBridgeClient, bus: str, name: str, target_id: str
) -> None:
    """Remove the rule and queue by name: a Ctrl-C may land after AWS made one but before its
    answer arrived, so whatever exists is removed and whatever does not is skipped."""
    with suppress(events.exceptions.ResourceNotFoundException):
        events.remove_targets(Rule=name, EventBusName=bus, Ids=[target_id])
        events.delete_rule(Name=name, EventBusName=bus)
    with suppress(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
