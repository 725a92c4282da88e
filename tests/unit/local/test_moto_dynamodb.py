"""moto's stream after a cancelled transaction: pinned as released, and as run locally.

The first test documents moto's behaviour (a cancelled transaction leaves its records in the shard
readers hold, and later writes go elsewhere). If an upgrade makes it fail, moto changed: check
whether ``samlocal/aws_endpoint/moto_dynamodb.py`` is still needed.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from samlocal.aws_endpoint import moto_dynamodb


class Stream:
    """A moto table with a stream, and a reader that follows one iterator chain as pollers do."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb")
        self.client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.streams = boto3.client("dynamodbstreams")
        self.arn = self.client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        self.iterator = self._iterator()

    def _iterator(self) -> str:
        shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]
        iterator: str = self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return iterator

    def put(self, key: str) -> None:
        self.client.put_item(TableName="t", Item={"pk": {"S": key}})

    def cancelled_transaction(self, new_key: str, existing_key: str) -> None:
        """Puts ``new_key`` and requires ``existing_key`` to be absent: always cancelled."""
        with pytest.raises(self.client.exceptions.TransactionCanceledException):
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": new_key}}}},
                    {
                        "ConditionCheck": {
                            "TableName": "t",
                            "Key": {"pk": {"S": existing_key}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )

    def read(self, fresh: bool = False) -> list[str]:
        """Keys of the records after the last read (``fresh``: from the shard's start)."""
        page = self.streams.get_records(ShardIterator=self._iterator() if fresh else self.iterator)
        if not fresh:
            self.iterator = page["NextShardIterator"]
        return [record["dynamodb"]["Keys"]["pk"]["S"] for record in page["Records"]]


@pytest.fixture
def moto_as_released(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stream]:
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_dynamodb._ORIGINAL)
    monkeypatch.setattr(DynamoDBBackend, "update_item", moto_dynamodb._ORIGINAL_UPDATE)
    with mock_aws():
        yield Stream()


@pytest.fixture
def moto_as_run_locally(moto_as_released: Stream) -> Stream:
    moto_dynamodb.install()  # undone by moto_as_released's monkeypatch
    return moto_as_released


def test_given_moto_as_released_when_a_transaction_is_cancelled_then_readers_see_it_only(
    moto_as_released: Stream,
) -> None:
    stream = moto_as_released
    stream.put("a")
    assert stream.read() == ["a"]

    stream.cancelled_transaction("phantom", existing_key="a")
    stream.put("b")

    assert stream.read() == ["phantom"]
    assert stream.read() == []
    assert stream.read(fresh=True) == ["a", "b"]


def test_given_the_local_fix_when_a_transaction_is_cancelled_then_readers_see_only_committed_writes(
    moto_as_run_locally: Stream,
) -> None:
    stream = moto_as_run_locally
    stream.put("a")
    assert stream.read() == ["a"]

    stream.cancelled_transaction("phantom", existing_key="a")
    stream.put("b")
    stream.cancelled_transaction("phantom-2", existing_key="b")
    stream.put("c")

    assert stream.read() == ["b", "c"]
    assert stream.read(fresh=True) == ["a", "b", "c"]


def test_given_the_local_fix_when_a_transaction_commits_then_its_records_are_read(
    moto_as_run_locally: Stream,
) -> None:
    stream = moto_as_run_locally
    stream.client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": key}}}} for key in ("x", "y")
        ]
    )

    assert stream.read() == ["x", "y"]


def _upsert(stream: Stream, key: str) -> None:
    stream.client.update_item(
        TableName="t",
        Key={"pk": {"S": key}},
        UpdateExpression="SET x = :x",
        ExpressionAttributeValues={":x": {"S": "new"}},
    )


def test_given_moto_as_released_when_an_update_creates_an_item_then_two_inserts_are_written(
    moto_as_released: Stream,
) -> None:
    _upsert(moto_as_released, "a")

    assert moto_as_released.read() == ["a", "a"]


def test_given_the_local_fix_when_an_update_creates_an_item_then_one_insert_with_its_image(
    moto_as_run_locally: Stream,
) -> None:
    stream = moto_as_run_locally
    _upsert(stream, "a")
    stream.put("b")

    page = stream.streams.get_records(ShardIterator=stream.iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in page] == [
        ("INSERT", "a"),
        ("INSERT", "b"),
    ]
    assert page[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "x": {"S": "new"}}
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in page]
    assert sequence[1] == sequence[0] + 1
