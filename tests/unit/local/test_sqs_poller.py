"""The local SQS mapping long-polls as Lambda's does: a sent message wakes it at once, an idle
queue costs a call every few seconds, and what the function reports failed stays queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from samlocal.sqs_mapping import SqsMapping, SqsPoller
from samlocal.sqs_mapping.poller import LONG_POLL_SECONDS
from tests.support.counting_client import CountingClient

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"


@pytest.fixture
def sqs() -> Iterator[CountingClient]:
    with mock_aws():
        yield CountingClient(boto3.client("sqs"), "receive_message")


def test_given_an_idle_poller_when_a_message_is_sent_then_it_is_delivered_at_once(
    sqs: CountingClient,
) -> None:
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    bodies: list[str] = []
    stop = threading.Event()
    poller = SqsPoller(
        SqsMapping("Worker", QUEUE_ARN),
        invoke=lambda event: bodies.extend(r["body"] for r in event["Records"]),
        sqs=sqs,
        queue_url=url,
        region="us-east-1",
        stop=stop,
    )
    threading.Thread(target=poller.run, daemon=True).start()

    time.sleep(1.5)
    idle_receives = sqs.calls
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    while not bodies and time.monotonic() - sent < LONG_POLL_SECONDS:
        time.sleep(0.01)
    waited = time.monotonic() - sent
    stop.set()

    assert idle_receives == 1  # one long poll, still waiting
    assert bodies == ["hello"]
    assert waited < 0.5
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "0"
    )


def test_given_reported_failures_when_polled_then_only_the_failed_message_stays(
    sqs: CountingClient,
) -> None:
    url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    poller = SqsPoller(
        SqsMapping("Worker", QUEUE_ARN, report_item_failures=True),
        invoke=lambda event: {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
            ]
        },
        sqs=sqs,
        queue_url=url,
        region="us-east-1",
    )

    assert poller.poll_once()
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == ["bad"]
