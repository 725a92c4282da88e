"""`userflow dlq list|replay` and `userflow events tail` against the template's stack in moto."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.stream_records import event_of_record
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.support.api_clients import UserFactory
from tests.support.moto_patches import shard_gone
from tests.support.stream_records import assert_published_event_is_valid, created, poison
from userflow.commands.dlq import list_dead_letters, replay
from userflow.commands.events import tail
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef
    from mypy_boto3_sqs.type_defs import MessageTypeDef


def _replay(stack: Stack, dry_run: bool = False, queue: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = replay(stack, dry_run, queue, out, wait_seconds=0)
    return code, out.getvalue()


def _drain(stack: Stack, logical_id: str) -> list[MessageTypeDef]:
    sqs, url = stack.client("sqs"), stack.physical_id(logical_id)
    messages: list[MessageTypeDef] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _events(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in _drain(stack, "ExampleSubscriberQueue")]


def _depth(stack: Stack, logical_id: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _stream(stack: Stack) -> tuple[str, str, list[RecordTypeDef]]:
    """Stream ARN, shard id and every record the table's stream holds."""
    streams = stack.client("dynamodbstreams")
    arn = stack.resources["UserRegistrationTable"]["stream_arn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return arn, shard, streams.get_records(ShardIterator=iterator)["Records"]


def _arrival(record: RecordTypeDef) -> str:
    """The record's arrival time as Lambda writes it, however long the test took to get here."""
    created: datetime = record["dynamodb"]["ApproximateCreationDateTime"]
    return created.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _on_failure_message(arn: str, shard: str, records: list[RecordTypeDef]) -> dict[str, Any]:
    """What Lambda sends to the on-failure destination when a batch's retries ran out."""
    now = datetime.now(UTC)
    arrivals = [_arrival(record) for record in records]
    return {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4e6e-9d5b-0d3cbd0a1f1a",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:processor",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 6,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": min(arrivals),
            "approximateArrivalOfLastRecord": max(arrivals),
            "batchSize": len(records),
            "streamArn": arn,
        },
    }


def _send(
    stack: Stack, logical_id: str, body: Any, attributes: dict[str, str] | None = None
) -> None:
    stack.client("sqs").send_message(
        QueueUrl=stack.physical_id(logical_id),
        MessageBody=json.dumps(body),
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in (attributes or {}).items()
        },
    )


def test_given_stream_batch_in_failure_queue_when_replayed_then_records_are_reread_and_published(
    stack: Stack, make_user: UserFactory
) -> None:
    users = [make_user(), make_user()]
    arn, shard, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, shard, records))
    expected_ids = {
        event.event_id
        for record in records
        if (event := event_of_record(as_lambda_record(record, arn))) is not None
    }

    code, output = _replay(stack)

    assert code == 0
    assert "re-read" in output
    events = _events(stack)
    assert {e["detail"]["user"]["id"] for e in events} == {u.id for u in users}
    assert {e["detail"]["event_id"] for e in events} == expected_ids
    for published in events:
        assert_published_event_is_valid(published)
    assert _depth(stack, "UserStreamFailureQueue") == 0


def test_given_replay_already_ran_when_run_again_then_nothing_more_is_published(
    stack: Stack, make_user: UserFactory
) -> None:
    make_user()
    arn, shard, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, shard, records))
    _replay(stack)
    _events(stack)

    code, _ = _replay(stack)

    assert code == 0
    assert _events(stack) == []


def test_given_stream_no_longer_has_the_records_when_replayed_then_table_items_are_used(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    arn, _, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", records))
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack)

    assert code == 0
    assert "falling back to the table" in output
    assert "deletions in that window cannot be recovered" in output
    [event] = _events(stack)
    assert event["detail"]["user"]["id"] == user.id
    assert event["detail-type"] == "UserCreated"


def test_given_a_record_that_is_still_poison_when_replayed_then_its_message_stays(
    stack: Stack,
) -> None:
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        poison(), "NewImage is not a valid user"
    )

    code, output = _replay(stack, queue="UserStreamPoisonQueue")

    assert code == 1
    assert "NewImage is not a valid user" in output
    assert _depth(stack, "UserStreamPoisonQueue") == 1
    assert _events(stack) == []


def test_given_a_poison_record_that_now_maps_when_replayed_then_published_and_removed(
    stack: Stack,
) -> None:
    record = created("fixed-user")
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        record, "was rejected by an older release"
    )

    code, _ = _replay(stack)

    assert code == 0
    assert [e["detail"]["user"]["id"] for e in _events(stack)] == ["fixed-user"]
    assert _depth(stack, "UserStreamPoisonQueue") == 0


def _target_failure(stack: Stack) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": "2f1d0b8e-6c1b-4e0b-9f5e-4a1b2c3d4e5f",
        "detail-type": "UserCreated",
        "source": "userflow.users",
        "account": "123456789012",
        "time": "2026-03-01T09:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(event_of_record(created("lost")).detail_json()),  # type: ignore[union-attr]
    }
    queue_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id("ExampleSubscriberQueue"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    _send(
        stack,
        "ExampleSubscriberDLQ",
        event,
        {
            "RULE_ARN": "arn:aws:events:us-east-1:123456789012:rule/bus/example",
            "TARGET_ARN": queue_arn,
            "ERROR_CODE": "SQS.AccessDenied",
            "ERROR_MESSAGE": "Access to the resource is denied.",
        },
    )
    return event


def test_given_undelivered_event_when_replayed_then_resent_to_its_target_once(
    stack: Stack,
) -> None:
    event = _target_failure(stack)

    assert _replay(stack)[0] == 0
    assert _replay(stack)[0] == 0

    assert _events(stack) == [event]
    assert _depth(stack, "ExampleSubscriberDLQ") == 0


def test_given_dry_run_when_replayed_then_nothing_moves(stack: Stack) -> None:
    _target_failure(stack)

    code, output = _replay(stack, dry_run=True)

    assert code == 0
    assert "would re-send" in output
    assert _events(stack) == []
    assert _depth(stack, "ExampleSubscriberDLQ") == 1


def test_given_messages_in_dlqs_when_listed_then_every_dlq_shows_depth_and_summaries(
    stack: Stack,
) -> None:
    _target_failure(stack)
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        poison(sequence_number="777"), "NewImage is not a valid user (email: bad)"
    )
    out = io.StringIO()

    list_dead_letters(stack, out)

    text = out.getvalue()
    assert "UserStreamFailureQueue" in text
    assert "UserStreamPoisonQueue" in text
    assert "poison INSERT of user broken (sequence 777): NewImage is not a valid user" in text
    assert "UserCreated event_id" in text
    assert "SQS.AccessDenied" in text
    assert _depth(stack, "ExampleSubscriberDLQ") == 1  # listing leaves messages in place


def test_given_tail_running_when_an_event_is_published_then_it_prints_the_whole_event(
    stack: Stack,
) -> None:
    out = io.StringIO()
    ready = threading.Event()
    tailing = threading.Thread(
        target=tail,
        args=(stack, out),
        kwargs={"as_json": True, "count": 1, "timeout": 10, "ready": ready},
    )
    tailing.start()
    assert ready.wait(5)
    event = event_of_record(created("tailed"))
    assert event is not None
    stack.client("events").put_events(
        Entries=[
            {
                "Source": "userflow.users",
                "DetailType": "UserCreated",
                "Detail": event.detail_json(),
                "EventBusName": stack.physical_id("UserEventsBus"),
            }
        ]
    )
    tailing.join(15)

    [line] = out.getvalue().splitlines()
    printed = json.loads(line)
    assert printed["detail"]["user"]["id"] == "tailed"
    assert printed["detail-type"] == "UserCreated"
    queues = stack.client("sqs").list_queues().get("QueueUrls", [])
    assert not [url for url in queues if "userflow-tail-" in url]
