"""When the stream no longer holds a failed batch: the table's current items stand in for it.

Each user changed in the batch's time window becomes one stand-in record marked as coming from
the table (``RECONSTRUCTED_SOURCE``): its event says ``reconstructed: true`` and its id is stable
per user and version, so running the fallback twice publishes the same ids. Deletions in the
window cannot be recovered (the items are gone).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.user_items import USER_PREFIX, USER_SK
from domain.events import RECONSTRUCTED_SOURCE

SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class Window:
    first: datetime
    last: datetime

    @classmethod
    def of_batch(cls, info: dict[str, Any]) -> Window:
        return cls(
            parse_time(info["approximateArrivalOfFirstRecord"]) - SLACK,
            parse_time(info["approximateArrivalOfLastRecord"]) + SLACK,
        )

    def __str__(self) -> str:
        return f"{self.first:%Y-%m-%d %H:%M:%S} and {self.last:%H:%M:%S}"


def reconstructed_records(
    dynamodb: Any, table_name: str, window: Window, stream_arn: str
) -> list[dict[str, Any]]:
    return [
        _record(item, stream_arn)
        for item in _user_items(dynamodb, table_name)
        if window.first <= parse_time(item["updated_at"]["S"]) <= window.last
    ]


def _user_items(dynamodb: Any, table_name: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="begins_with(PK, :user) AND SK = :profile",
        ExpressionAttributeValues={
            ":user": {"S": USER_PREFIX},
            ":profile": {"S": USER_SK},
        },
    ):
        yield from page["Items"]


def _record(item: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    version = item.get("version", {}).get("N", "0")
    return {
        "eventName": "INSERT" if int(version) == 1 else "MODIFY",
        "eventSource": RECONSTRUCTED_SOURCE,
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "Keys": {"PK": item["PK"], "SK": item["SK"]},
            "NewImage": item,
            # Unique per item version, as a real one is per change: ids and outcomes key on it.
            "SequenceNumber": f"table-{item['PK']['S']}-version-{version}",
            "ApproximateCreationDateTime": parse_time(item["updated_at"]["S"]).timestamp(),
        },
    }


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
