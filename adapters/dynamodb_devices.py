"""Trusted devices on the single table (``DeviceRepository``, domain/ports.py).

Item: PK=DEVICE#<sha256 of the device token>  SK=DEVICE  user_id, created_at, expires_at (TTL,
epoch seconds), failed_logins, locked_until (its own throttle, adapters/dynamodb_throttle.py).
The token itself is never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters import dynamodb_throttle
from adapters.aws_clients import client
from adapters.user_items import iso_timestamp
from domain.login_throttle import ThrottleState, TrustedDevice

DEVICE_SK = "DEVICE"


def device_key(token_hash: str) -> dict[str, Any]:
    return {"PK": {"S": f"DEVICE#{token_hash}"}, "SK": {"S": DEVICE_SK}}


def _epoch(value: datetime) -> dict[str, str]:
    return {"N": str(int(value.timestamp()))}


class DynamoDBDeviceRepository:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def find_device(self, token_hash: str) -> TrustedDevice | None:
        found = self._db.get_item(
            TableName=self._table, Key=device_key(token_hash), ConsistentRead=True
        )
        item = found.get("Item")
        if item is None:
            return None
        locked = item.get("locked_until")
        return TrustedDevice(
            token_hash=token_hash,
            user_id=item["user_id"]["S"],
            created_at=datetime.fromisoformat(item["created_at"]["S"]),
            expires_at=datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC),
            state=ThrottleState(
                failures=int(item.get("failed_logins", {}).get("N", "0")),
                throttled_until=datetime.fromisoformat(locked["S"]) if locked else None,
            ),
        )

    def add_device(self, device: TrustedDevice) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                **device_key(device.token_hash),
                "entity": {"S": "device"},
                "user_id": {"S": device.user_id},
                "created_at": {"S": iso_timestamp(device.created_at)},
                "expires_at": _epoch(device.expires_at),
            },
            ConditionExpression="attribute_not_exists(PK)",
        )

    def record_device_failure(self, token_hash: str, now: datetime) -> int | None:
        return dynamodb_throttle.count_failure(self._db, self._table, device_key(token_hash))

    def throttle_device(self, token_hash: str, until: datetime) -> None:
        dynamodb_throttle.throttle(self._db, self._table, device_key(token_hash), until)

    def record_device_success(self, device: TrustedDevice, now: datetime) -> bool:
        condition, values = dynamodb_throttle.unchanged_since_read(device.state.failures)
        return dynamodb_throttle.update_if_exists(
            self._db,
            self._table,
            device_key(device.token_hash),
            "SET failed_logins = :zero, expires_at = :expires REMOVE locked_until",
            {
                **values,
                ":zero": {"N": "0"},
                ":expires": _epoch(device.expires_at),
                ":now": {"S": iso_timestamp(now)},
            },
            condition=f"attribute_exists(PK) AND {condition}",
        )
