"""Reads a DynamoDB stream's shards into per-shard buffers of records in Lambda's shape.

Records that match none of the mapping's ``FilterCriteria`` are skipped (Lambda checkpoints past
them). Every read starts from a fresh iterator at the shard's checkpoint (the last sequence number
read), as Lambda does when an iterator expires: the stream is looked up again each time, so a
table object that the emulation replaces cannot leave the reader on a stale shard.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from samlocal.stream_mapping.filter_criteria import matches
from samlocal.stream_mapping.lambda_record import as_lambda_record
from samlocal.stream_mapping.mappings import StreamMapping

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.literals import ShardIteratorTypeType


@dataclass
class Shard:
    """One shard's reading position and the matching records not yet delivered."""

    shard_id: str
    iterator: str | None
    position: ShardIteratorTypeType
    """Where reading starts while nothing has been read: TRIM_HORIZON or LATEST."""
    checkpoint: str | None = None
    """Sequence number of the last record read."""
    buffer: list[dict[str, Any]] = field(default_factory=list)
    waiting_since: float = 0.0
    """When the oldest buffered record was read (for the batching window)."""


class StreamReader:
    """All shards of one mapping's stream."""

    def __init__(
        self, mapping: StreamMapping, streams_client: DynamoDBStreamsClient, region: str
    ) -> None:
        self.mapping = mapping
        self.streams = streams_client
        self.region = region
        self.shards: dict[str, Shard] = {}
        self._started = False

    def discover(self) -> None:
        """Adds shards not seen yet. Shards that exist when the mapping starts honour
        ``StartingPosition``; later ones are read from their start, as Lambda does."""
        arguments: dict[str, Any] = {"StreamArn": self.mapping.stream_arn}
        while True:
            page = self.streams.describe_stream(**arguments)["StreamDescription"]
            for shard in page.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in self.shards:
                    # A DynamoDB mapping starts at TRIM_HORIZON or LATEST (the only values SAM
                    # accepts for it).
                    position: ShardIteratorTypeType = (
                        "LATEST"
                        if not self._started and self.mapping.starting_position == "LATEST"
                        else "TRIM_HORIZON"
                    )
                    iterator = self.streams.get_shard_iterator(
                        StreamArn=self.mapping.stream_arn,
                        ShardId=shard_id,
                        ShardIteratorType=position,
                    )["ShardIterator"]
                    self.shards[shard_id] = Shard(shard_id, iterator, position)
            if not page.get("LastEvaluatedShardId"):
                break
            arguments["ExclusiveStartShardId"] = page["LastEvaluatedShardId"]
        self._started = True

    def read(self, shard: Shard) -> None:
        """Appends the shard's new matching records to its buffer."""
        iterator = self._iterator(shard)
        if iterator is None:
            return
        page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        shard.iterator = page.get("NextShardIterator")
        if not shard.buffer:
            shard.waiting_since = time.monotonic()
        for record in page.get("Records", []):
            shard.checkpoint = record["dynamodb"]["SequenceNumber"]
            event_record = self._event_record(record)
            if not self.mapping.filters or any(
                matches(pattern, event_record) for pattern in self.mapping.filters
            ):
                shard.buffer.append(event_record)

    def _iterator(self, shard: Shard) -> str | None:
        if shard.checkpoint is None and shard.position == "LATEST":
            return shard.iterator
        if shard.checkpoint is None:
            return self.streams.get_shard_iterator(
                StreamArn=self.mapping.stream_arn,
                ShardId=shard.shard_id,
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
        return self.streams.get_shard_iterator(
            StreamArn=self.mapping.stream_arn,
            ShardId=shard.shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=shard.checkpoint,
        )["ShardIterator"]

    def _event_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record as Lambda delivers it (``as_lambda_record``), in this region; a record
        without a creation time gets the time it was read."""
        event_record = as_lambda_record(record, self.mapping.stream_arn)
        event_record["awsRegion"] = self.region
        if event_record["dynamodb"].get("ApproximateCreationDateTime") is None:
            event_record["dynamodb"]["ApproximateCreationDateTime"] = int(time.time())
        return event_record
