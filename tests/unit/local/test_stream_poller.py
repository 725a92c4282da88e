"""The local poller gives the stream function what Lambda's event source mapping would."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from samlocal.intrinsics import ACCOUNT_ID, Resolver
from samlocal.stream_mapping.mappings import StreamMapping, mappings_from_template
from samlocal.stream_mapping.poller import StreamPoller
from samlocal.template import Template

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:processor"
Handler = Callable[[dict[str, Any]], Any]


def _client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


@dataclass
class StreamRig:
    """A moto table with a stream, an on-failure queue and a poller factory."""

    table: Any
    mapping: StreamMapping
    queue_url: str
    clock_skew: float = 0.0

    def put(self, *ids: str) -> None:
        for item_id in ids:
            self.table.put_item(Item={"pk": item_id, "kind": "user" if item_id != "skip" else "x"})

    def run(self, handler: Handler, **changes: Any) -> list[list[str]]:
        """Drains the stream into the handler; returns each invocation's record ids."""
        poller, batches = self.poller(handler, **changes)
        poller.drain()
        return batches

    def poller(self, handler: Handler, **changes: Any) -> tuple[StreamPoller, list[list[str]]]:
        batches: list[list[str]] = []
        mapping = replace(self.mapping, **changes)

        def invoke(function: str, event: dict[str, Any]) -> Any:
            if function != mapping.function:
                raise AssertionError(f"{function} invoked for {mapping.function}'s records")
            batches.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]])
            return handler(event)

        poller = StreamPoller(
            mapping,
            invoke=invoke,
            function_arn=FUNCTION_ARN,
            streams_client=boto3.client("dynamodbstreams"),
            destination_client=_client,
            region="us-east-1",
            retry_delay=0,
            clock=lambda: time.time() + self.clock_skew,
        )
        return poller, batches

    def failure_messages(self) -> list[dict[str, Any]]:
        messages = (
            boto3.client("sqs")
            .receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def rig() -> Iterator[StreamRig]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb")
        table = dynamodb.create_table(
            TableName="users",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="on-failure")["QueueUrl"]
        mapping = StreamMapping(
            function="Processor",
            stream_arn=table.latest_stream_arn,
            batch_size=10,
            on_failure="arn:aws:sqs:us-east-1:123456789012:on-failure",
        )
        yield StreamRig(table, mapping, queue_url)


def _ids(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]


def test_given_writes_when_polling_then_records_arrive_in_lambda_shape_and_batches(
    rig: StreamRig,
) -> None:
    rig.put("a", "b", "c")
    events: list[dict[str, Any]] = []

    batches = rig.run(events.append, batch_size=2)

    assert batches == [["a", "b"], ["c"]]
    record = events[0]["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == rig.mapping.stream_arn
    assert record["awsRegion"] == "us-east-1"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "kind": {"S": "user"}}
    assert record["dynamodb"]["SequenceNumber"].isdigit()


def test_given_filter_criteria_when_polling_then_non_matching_records_never_arrive(
    rig: StreamRig,
) -> None:
    rig.put("a", "skip", "b")
    pattern = {"dynamodb": {"NewImage": {"kind": {"S": ["user"]}}}}

    batches = rig.run(lambda event: None, filters=(pattern,))

    assert batches == [["a", "b"]]


def test_given_a_partial_failure_when_polling_then_retry_starts_at_the_lowest_failed_record(
    rig: StreamRig,
) -> None:
    rig.put("a", "b", "c", "d")
    failed_once: set[str] = set()

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        failures = [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"]
            if r["dynamodb"]["Keys"]["pk"]["S"] in {"b", "d"} - failed_once
        ]
        failed_once.update(_ids(event)[1:2] + _ids(event)[3:4])
        return {"batchItemFailures": failures}

    batches = rig.run(handler, report_item_failures=True)

    assert batches == [["a", "b", "c", "d"], ["b", "c", "d"]]
    assert rig.failure_messages() == []


def test_given_an_empty_item_identifier_when_polling_then_the_whole_batch_is_retried(
    rig: StreamRig,
) -> None:
    rig.put("a", "b")
    answers = [{"batchItemFailures": [{"itemIdentifier": ""}]}, {"batchItemFailures": []}]

    batches = rig.run(lambda event: answers.pop(0), report_item_failures=True)

    assert batches == [["a", "b"], ["a", "b"]]


def test_given_a_poison_record_when_bisecting_then_only_it_reaches_the_on_failure_queue(
    rig: StreamRig,
) -> None:
    rig.put("a", "b", "c", "d")

    def handler(event: dict[str, Any]) -> None:
        if "b" in _ids(event):
            raise RuntimeError("poison")

    batches = rig.run(handler, bisect_on_error=True, max_retries=1)

    assert batches == [["a", "b", "c", "d"], ["a", "b"], ["a"], ["b"], ["b"], ["c", "d"]]
    (message,) = rig.failure_messages()
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]


def test_given_retries_run_out_when_polling_then_aws_metadata_goes_to_the_destination(
    rig: StreamRig,
) -> None:
    rig.put("a", "b")

    def handler(event: dict[str, Any]) -> None:
        raise RuntimeError("down")

    batches = rig.run(handler, max_retries=2)

    assert batches == [["a", "b"]] * 3
    (message,) = rig.failure_messages()
    assert set(message) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    }
    assert message["version"] == "1.0"
    assert message["requestContext"]["functionArn"] == FUNCTION_ARN
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2
    assert info["streamArn"] == rig.mapping.stream_arn
    assert info["shardId"].startswith("shardId-")
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_given_a_batch_given_up_when_new_records_arrive_then_the_shard_moves_on(
    rig: StreamRig,
) -> None:
    def handler(event: dict[str, Any]) -> None:
        if "a" in _ids(event):
            raise RuntimeError("down")

    poller, batches = rig.poller(handler, max_retries=0)
    rig.put("a")
    poller.drain()
    rig.put("b")
    poller.drain()

    assert batches == [["a"], ["b"]]
    assert [m["DDBStreamBatchInfo"]["batchSize"] for m in rig.failure_messages()] == [1]


def test_given_starting_position_latest_when_polling_then_only_later_writes_arrive(
    rig: StreamRig,
) -> None:
    rig.put("old")
    poller, batches = rig.poller(lambda event: None, starting_position="LATEST")
    poller.drain()
    rig.put("new")
    poller.drain()

    assert batches == [["new"]]


def test_given_the_table_object_replaced_in_moto_when_polling_then_later_writes_still_arrive(
    rig: StreamRig,
) -> None:
    poller, batches = rig.poller(lambda event: None)
    rig.put("a")
    poller.drain()
    tables = dynamodb_backends[ACCOUNT_ID]["us-east-1"].tables
    tables["users"] = copy.deepcopy(tables["users"])  # what moto does when it rolls back
    rig.put("b")
    poller.drain()

    assert batches == [["a"], ["b"]]


def test_given_two_mappings_on_one_stream_when_polling_then_each_has_own_filter_and_destination(
    rig: StreamRig,
) -> None:
    sqs = boto3.client("sqs")
    mailer_queue = sqs.create_queue(QueueName="mailer-failures")["QueueUrl"]
    rig.put("a", "skip", "b")
    users = {"dynamodb": {"NewImage": {"kind": {"S": ["user"]}}}}
    others = {"dynamodb": {"NewImage": {"kind": {"S": [{"anything-but": "user"}]}}}}

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("mail server down")

    processor = rig.run(lambda event: None, filters=(users,), max_retries=0)
    mailer = rig.run(
        fail,
        function="Mailer",
        event="Changes",
        filters=(others,),
        batch_size=1,
        max_retries=0,
        on_failure="arn:aws:sqs:us-east-1:123456789012:mailer-failures",
    )

    assert processor == [["a", "b"]]
    assert mailer == [["skip"]]
    assert rig.failure_messages() == []
    (message,) = sqs.receive_message(QueueUrl=mailer_queue)["Messages"]
    assert json.loads(message["Body"])["DDBStreamBatchInfo"]["batchSize"] == 1


def test_given_records_older_than_the_max_age_when_polling_then_discarded_to_destination(
    rig: StreamRig,
) -> None:
    rig.put("a", "b")
    rig.clock_skew = 120

    batches = rig.run(lambda event: None, max_record_age_s=60)

    assert batches == []
    (message,) = rig.failure_messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2


def test_given_records_expiring_while_retried_when_polling_then_the_record_counts_the_invokes(
    rig: StreamRig,
) -> None:
    rig.put("a")

    def handler(event: dict[str, Any]) -> None:
        rig.clock_skew = 120  # the record ages past the limit while its first invoke fails
        raise RuntimeError("down")

    batches = rig.run(handler, max_record_age_s=60)

    assert batches == [["a"]]
    (message,) = rig.failure_messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 1
    assert message["responseContext"]["functionError"] == "Unhandled"


def _template_with_filter(tmp_path: Path, pattern: Any) -> Template:
    event = {
        "Type": "DynamoDB",
        "Properties": {
            "Stream": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1",
            "StartingPosition": "TRIM_HORIZON",
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(pattern)}]},
        },
    }
    function = {"Type": "AWS::Serverless::Function", "Properties": {"Events": {"S": event}}}
    return Template(path=tmp_path / "template.yaml", body={"Resources": {"Fn": function}})


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": "INSERT"},
        {"eventName": []},
        {"dynamodb": {"Keys": {"PK": {"S": "USER#1"}}}},
        {"$or": {"eventName": ["INSERT"]}},
        ["INSERT"],
    ],
)
def test_given_an_invalid_filter_pattern_when_reading_mappings_then_refused_as_lambda_does(
    tmp_path: Path, pattern: Any
) -> None:
    template = _template_with_filter(tmp_path, pattern)

    with pytest.raises(ValueError, match="FilterCriteria"):
        mappings_from_template(template, Resolver(template, "stack", "us-east-1"))


def test_given_a_valid_filter_pattern_when_reading_mappings_then_it_is_kept(
    tmp_path: Path,
) -> None:
    pattern = {"eventName": ["INSERT"], "$or": [{"a": [{"exists": True}]}, {"b": ["x"]}]}
    template = _template_with_filter(tmp_path, pattern)

    (mapping,) = mappings_from_template(template, Resolver(template, "stack", "us-east-1"))

    assert mapping.filters == (pattern,)
