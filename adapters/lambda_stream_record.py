"""A DynamoDB Streams ``GetRecords`` record turned into the record Lambda delivers to a function.

Shared by everything that feeds the stream processor without Lambda: the local runtime's poller
and `userflow dlq replay`, so a re-read record maps to exactly the event the original did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def as_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """Adds ``eventSourceARN`` and gives ``ApproximateCreationDateTime`` in whole epoch seconds
    (boto3 parses it to a datetime; Lambda sends the number DynamoDB Streams rounded down)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "eventSourceARN": stream_arn, "dynamodb": stream}
