"""When the stream no longer holds a failed batch: the table's current items stand in for it.

Each user changed in the batch's time window or since (and each user deleted then, from its
tombstone: adapters/tombstones.py) becomes one stand-in record marked as coming
from the table (``RECONSTRUCTED_SOURCE``): its event says ``reconstructed: true`` and its id is
stable per user and version, so running the fallback twice publishes the same ids. "Or since": a
later change that publishes nothing (a password change) would otherwise hide a lost one, and
re-publishing a user's current state is harmless under the subscribers' version rule. An item
whose time cannot be read is handed on too, to become poison where it is mapped, rather than stop
the replay of everyone else. The security events stamped on an item since the window began are
published again under their ids (domain/event_mapping.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.stream_records import REPLAY_SINCE
from adapters.tombstones import TOMBSTONE_SK, deletion_image, is_tombstone
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
    since = window.first.timestamp()
    records = [
        stand_in_record(item, stream_arn, since) for item in _user_items(dynamodb, table_name)
    ]
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
    """User items and deleted users' tombstones."""
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="begins_with(PK, :user) AND SK IN (:profile, :tombstone)",
        ExpressionAttributeValues={
            ":user": {"S": USER_PREFIX},
            ":profile": {"S": USER_SK},
            ":tombstone": {"S": TOMBSTONE_SK},
        },
    ):
        yield from page["Items"]


def stand_in_record(
    item: dict[str, Any], stream_arn: str, since: float | None = None
) -> dict[str, Any]:
    """The stream record a user item's current state stands in for (a tombstone: the
    deletion's REMOVE); its security stamps made since ``since`` (epoch seconds; None: all of
    them) are published again with it."""
    version = item.get("version", {}).get("N", "0")
    changed = _changed_at(item)
    deleted = is_tombstone(item)
    image = deletion_image(item) if deleted else item
    stream: dict[str, Any] = {
        "Keys": {"PK": image["PK"], "SK": image["SK"]},
        "OldImage" if deleted else "NewImage": image,
        # Unique per item version, as a real one is per change: ids and outcomes key on it.
        "SequenceNumber": f"table-{item['PK']['S']}-{'deleted-' if deleted else ''}"
        f"version-{version}",
    }
    if changed is not None:
        stream["ApproximateCreationDateTime"] = changed.timestamp()
    if since is not None:
        stream[REPLAY_SINCE] = since
    return {
        "eventName": "REMOVE" if deleted else "INSERT" if version == "1" else "MODIFY",
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
