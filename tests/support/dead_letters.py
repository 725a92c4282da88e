"""The table stream, the dead-letter queues and `userflow dlq replay` as the DLQ and pipeline tests
drive them on moto: what Lambda and EventBridge put in a DLQ when they give up, read back and
replayed.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.stream_records import event_of_record
from tests.support.stream_records import created
from userflow.commands.dlq import replay
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef
    from mypy_boto3_sqs.type_defs import MessageTypeDef


def run_replay(stack: Stack, dry_run: bool = False, queue: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = replay(stack, dry_run, queue, out, wait_seconds=0)
    return code, out.getvalue()


def drain_queue(stack: Stack, logical_id: str) -> list[MessageTypeDef]:
    sqs, url = stack.client("sqs"), stack.physical_id(logical_id)
    messages: list[MessageTypeDef] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def arrived(stack: Stack) -> list[dict[str, Any]]:
    """The events the example subscriber's queue received since last asked (drained)."""
    return [json.loads(m["Body"]) for m in drain_queue(stack, "ExampleSubscriberQueue")]


def queue_depth(stack: Stack, logical_id: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def table_stream(stack: Stack) -> tuple[str, str, list[RecordTypeDef]]:
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


def on_failure_message(arn: str, shard: str, records: list[RecordTypeDef]) -> dict[str, Any]:
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


def enqueue(
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


def target_failure(stack: Stack) -> dict[str, Any]:
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
    enqueue(
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
