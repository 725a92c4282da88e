"""`userflow dlq replay` re-reads failed batches from the table stream as a third reader of its
shards (the stream processor's and the mailer's mappings are the other two; DynamoDB Streams
throttles more than two): it paces its reads, backs off when throttled, and gives the range up
to the table fallback when the shard stays busy (moto's stream, with throttling injected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from userflow.dlq import stream

TABLE = "users"


class Throttled:
    """moto's stream client, throttled for its first ``times`` GetRecords calls."""

    def __init__(self, client: Any, times: int) -> None:
        self._client, self._times, self.reads = client, times, 0

    def get_shard_iterator(self, **request: Any) -> Any:
        return self._client.get_shard_iterator(**request)

    def get_records(self, **request: Any) -> Any:
        self.reads += 1
        if self.reads <= self._times:
            error = {"Error": {"Code": "LimitExceededException", "Message": "Rate exceeded"}}
            raise ClientError(error, "GetRecords")  # type: ignore[arg-type]
        return self._client.get_records(**request)


@pytest.fixture
def batch() -> Iterator[tuple[Any, dict[str, Any]]]:
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for i in range(3):
            db.put_item(TableName=TABLE, Item={"PK": {"S": f"USER#{i}"}})
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        arn = db.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        sequences = [
            r["dynamodb"]["SequenceNumber"]
            for r in streams.get_records(ShardIterator=iterator)["Records"]
        ]
        yield (
            streams,
            {
                "streamArn": arn,
                "shardId": shard["ShardId"],
                "startSequenceNumber": sequences[0],
                "endSequenceNumber": sequences[-1],
            },
        )


def test_given_a_busy_shard_when_a_batch_is_re_read_then_the_replay_backs_off_and_reads_it(
    batch: tuple[Any, dict[str, Any]],
) -> None:
    streams, info = batch
    throttled = Throttled(streams, times=2)
    pauses: list[float] = []

    records = stream.batch_records(throttled, info, sleep=pauses.append)  # type: ignore[arg-type]

    assert len(records) == 3
    assert throttled.reads == 3
    interval = stream.READ_INTERVAL_SECONDS
    assert pauses == [interval * 2, interval * 4]  # growing pauses, none before the first read


def test_given_a_shard_that_stays_busy_when_re_read_then_the_range_is_left_to_the_table(
    batch: tuple[Any, dict[str, Any]],
) -> None:
    streams, info = batch
    throttled = Throttled(streams, times=100)

    with pytest.raises(stream.StreamRangeIncomplete, match="throttled"):
        stream.batch_records(throttled, info, sleep=lambda _: None)  # type: ignore[arg-type]

    assert throttled.reads == stream.THROTTLE_RETRIES + 1
