"""Re-reads a failed batch's records from the table stream, as Lambda delivered them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from adapters.lambda_stream_record import as_lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# DynamoDB Streams may answer empty pages before the records it holds; after this many in a row
# the batch's range is taken as no longer readable.
MAX_EMPTY_PAGES = 10


class StreamRangeIncomplete(LookupError):
    """The stream did not yield a batch's whole sequence range (trimmed, or shard ended early)."""


def batch_records(
    streams: DynamoDBStreamsClient, info: dict[str, Any], only: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The batch's records (those in ``only``, if given), or StreamRangeIncomplete."""
    records = list(_range(streams, info))
    return [r for r in records if only is None or r["dynamodb"]["SequenceNumber"] in only]


def _range(streams: DynamoDBStreamsClient, info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    empty_pages = 0
    while iterator and empty_pages < MAX_EMPTY_PAGES:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in page["Records"]:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if start <= sequence <= end:
                yield as_lambda_record(record, info["streamArn"])
            if sequence >= end:
                return
        empty_pages = 0 if page["Records"] else empty_pages + 1
        iterator = page.get("NextShardIterator")
    raise StreamRangeIncomplete(f"the shard holds no record up to sequence {end}")
