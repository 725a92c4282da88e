"""Re-reads a failed batch's records from the table stream, as Lambda delivered them.

The replay is a third reader of the table's shards, beside the stream processor's and the
mailer's event source mappings, and DynamoDB Streams throttles a shard read by more than two
processes at once. So it reads politely: one GetRecords per ``READ_INTERVAL_SECONDS``, backing off
when throttled; still throttled after ``THROTTLE_RETRIES``, it gives the range up
(StreamRangeIncomplete), and the replay reads the table instead (``table_fallback``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from samlocal.stream_mapping import as_lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# DynamoDB Streams may answer empty pages before the records it holds; after this many in a row
# the batch's range is taken as no longer readable.
MAX_EMPTY_PAGES = 10
READ_INTERVAL_SECONDS = 1.0
THROTTLE_RETRIES = 5
THROTTLED = {
    "LimitExceededException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
}


class StreamRangeIncomplete(LookupError):
    """The stream did not yield a batch's whole sequence range (trimmed, or shard ended early)."""


def batch_records(
    streams: DynamoDBStreamsClient,
    info: dict[str, Any],
    only: frozenset[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """The batch's records (those in ``only``, if given), or StreamRangeIncomplete."""
    records = list(_range(streams, info, sleep))
    return [r for r in records if only is None or r["dynamodb"]["SequenceNumber"] in only]


def _get_records(
    streams: DynamoDBStreamsClient, iterator: str, sleep: Callable[[float], None], first: bool
) -> dict[str, Any]:
    """One page, after the pause that keeps the replay a polite reader (none before the first
    read); retried with growing pauses when throttled."""
    for attempt in range(THROTTLE_RETRIES + 1):
        if attempt or not first:
            sleep(READ_INTERVAL_SECONDS * 2**attempt)
        try:
            page: dict[str, Any] = dict(streams.get_records(ShardIterator=iterator, Limit=1000))
            return page
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in THROTTLED:
                raise
    raise StreamRangeIncomplete("the shard stayed throttled (its two readers are busy)")


def _range(
    streams: DynamoDBStreamsClient, info: dict[str, Any], sleep: Callable[[float], None]
) -> Iterator[dict[str, Any]]:
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    first_iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    iterator: str | None = first_iterator
    empty_pages = reads = 0
    while iterator and empty_pages < MAX_EMPTY_PAGES:
        page = _get_records(streams, iterator, sleep, first=reads == 0)
        reads += 1
        for record in page["Records"]:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if start <= sequence <= end:
                yield as_lambda_record(record, info["streamArn"])
            if sequence >= end:
                return
        empty_pages = 0 if page["Records"] else empty_pages + 1
        iterator = page.get("NextShardIterator")
    raise StreamRangeIncomplete(f"the shard holds no record up to sequence {end}")
