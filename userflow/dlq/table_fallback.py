"""When the stream no longer holds a failed batch: the table's current items stand in for it.

Each user changed in the batch's time window or since becomes one stand-in record marked as coming
from the table (``RECONSTRUCTED_SOURCE``): its event says ``reconstructed: true`` and its id is
stable per user and version, so running the fallback twice publishes the same ids. "Or since": a
later change that publishes nothing (a password change) would otherwise hide a lost one, and
re-publishing a user's current state is harmless under the subscribers' version rule. An item
whose time cannot be read is handed on too, to become poison where it is mapped, rather than stop
the replay of everyone else. Deletions in the window cannot be recovered (the items are gone).
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
    records = [stand_in_record(item, stream_arn) for item in _user_items(dynamodb, table_name)]
    since = window.first.timestamp()
    return [
        record
        for record in records
        if record["dynamodb"].get("ApproximateCreationDateTime", since) >= since
    ]


def _changed_at(item: dict[str, Any]) -> datetime | None:
    try:
        return parse_time(item["updated_at"]["S"])
    except (KeyError, TypeError, ValueError, OverflowError):  # also a time past the calendar
        return None


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


def stand_in_record(item: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """The stream record a user item's current state stands in for."""
    version = item.get("version", {}).get("N", "0")
    changed = _changed_at(item)
    stream: dict[str, Any] = {
        "Keys": {"PK": item["PK"], "SK": item["SK"]},
        "NewImage": item,
        # Unique per item version, as a real one is per change: ids and outcomes key on it.
        "SequenceNumber": f"table-{item['PK']['S']}-version-{version}",
    }
    if changed is not None:
        stream["ApproximateCreationDateTime"] = changed.timestamp()
    return {
        "eventName": "INSERT" if version == "1" else "MODIFY",
        "eventSource": RECONSTRUCTED_SOURCE,
        "eventSourceARN": stream_arn,
        "dynamodb": stream,
    }


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
