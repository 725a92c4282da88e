"""Whatever a dead-letter queue holds, reading a message never raises: what the tools cannot use
is named with the reason, and the other messages go on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from userflow.dlq.dead_letters import (
    KINDS,
    FailedEvent,
    PoisonMessage,
    StreamBatch,
    UndeliveredEvent,
    Unrecognised,
    WebhookDelivery,
)
from userflow.dlq.messages import read_message

BATCH_INFO = {
    "shardId": "shardId-00000001700000000000-00000000",
    "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
    "startSequenceNumber": "100",
    "endSequenceNumber": "200",
    "approximateArrivalOfFirstRecord": "2026-03-01T09:30:00Z",
    "approximateArrivalOfLastRecord": "2026-03-01T09:31:00Z",
    "batchSize": 2,
}
DELIVERY = {
    "endpoint_id": "e1",
    "message_id": "11111111-2222-3333-4444-555555555555",
    "detail_type": "UserCreated",
    "payload": '{"detail-type":"UserCreated"}',
    "attempt": 3,
    "not_before": 0.0,
    "last_error": "HTTP 500",
}


def _message(body: Any, **attributes: str) -> dict[str, Any]:
    return {
        "MessageId": "m-1",
        "Body": body if isinstance(body, str) else json.dumps(body),
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    }


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"kind": "userflow.poison-record", "record": [1, 2]}, "poison record this tool cannot"),
        ({"kind": "userflow.poison-record", "record": {"dynamodb": "x"}}, "record.dynamodb"),
        ({"kind": "userflow.poison-record"}, "record: Field required"),
        ({"DDBStreamBatchInfo": {"shardId": 1}}, "stream batch this tool cannot use"),
        ({"DDBStreamBatchInfo": {**BATCH_INFO, "startSequenceNumber": "12a"}}, "startSequence"),
        (
            {"DDBStreamBatchInfo": {**BATCH_INFO, "approximateArrivalOfLastRecord": "soon"}},
            "approximateArrivalOfLastRecord",
        ),
        (
            {"DDBStreamBatchInfo": BATCH_INFO, "userflowPendingSequenceNumbers": []},
            "userflowPendingSequenceNumbers",
        ),
        ({"delivery": {**DELIVERY, "attempt": "3"}}, "webhook delivery this tool cannot use"),
        ({"delivery": {**DELIVERY, "attempt": 0}}, "delivery.attempt"),
        ({"delivery": {**DELIVERY, "endpoint_id": ""}}, "delivery.endpoint_id"),
        ({"delivery": {**DELIVERY, "secret": "whsec_x"}}, "delivery.secret"),
        ({"delivery": [1]}, "webhook delivery this tool cannot use"),
        ({"delivery": DELIVERY, "extra": 1}, "extra"),
        ("not json {", "the body is not JSON"),
        ("", "the body is not JSON"),
        ([1, 2, 3], "no known kind"),
        ({"hello": "\ud800"}, "no known kind"),
    ],
)
def test_given_garbage_when_read_then_unrecognised_with_the_reason(body: Any, why: str) -> None:
    letter = read_message(_message(body))

    assert isinstance(letter, Unrecognised)
    assert letter.message_id == "m-1"
    assert why in letter.describe()
    assert KINDS[type(letter)] == "unreadable"


def test_given_a_message_without_a_body_when_read_then_unrecognised() -> None:
    assert isinstance(read_message({"MessageId": "m-2"}), Unrecognised)


def test_given_each_known_kind_when_read_then_recognised() -> None:
    batch = read_message(_message({"DDBStreamBatchInfo": BATCH_INFO}))
    poison = read_message(
        _message({"kind": "userflow.poison-record", "reason": "r", "record": {"dynamodb": {}}})
    )
    undelivered = read_message(_message({"detail": {}}, TARGET_ARN="arn:aws:sqs:r:1:q"))
    event = {"detail-type": "UserCreated", "source": "userflow.users", "detail": {}}
    failed = read_message(_message(event))

    assert isinstance(batch, StreamBatch)
    assert isinstance(poison, PoisonMessage)
    assert isinstance(undelivered, UndeliveredEvent)
    assert isinstance(failed, FailedEvent)
    assert [KINDS[type(x)] for x in (batch, poison, undelivered, failed)] == [
        "stream-batch",
        "poison-record",
        "undelivered-event",
        "failed-event",
    ]
    assert failed.describe().startswith("UserCreated event_id ? user ?: its queue's consumer")


def test_given_a_dead_lettered_webhook_delivery_when_read_then_summarised_by_endpoint() -> None:
    letter = read_message(_message({"delivery": DELIVERY}, reason="no attempt left after 3"))
    moved = read_message(_message({"delivery": {**DELIVERY, "last_error": None}}))

    assert isinstance(letter, WebhookDelivery)
    assert KINDS[type(letter)] == "webhook-delivery"
    assert letter.describe() == (
        "webhook delivery of UserCreated event_id 11111111-2222-3333-4444-555555555555 to "
        "endpoint e1, attempt 3: no attempt left after 3"
    )
    assert isinstance(moved, WebhookDelivery)  # moved by SQS after maxReceiveCount: no reason
    assert moved.describe().endswith("the delivery function kept failing on it")


def test_given_control_characters_in_a_delivery_when_summarised_then_escaped_on_one_line() -> None:
    hostile = {**DELIVERY, "detail_type": "User\x1b[2JCreated", "last_error": "HTTP 500\nforged"}

    line = read_message(_message({"delivery": hostile})).describe()

    assert "\x1b" not in line
    assert "\n" not in line
    assert "User\\x1b[2JCreated" in line
    assert "HTTP 500\\nforged" in line
