"""RateLimiter on the single table: one counter item per key and fixed window.

Item: PK=LIMIT#<key>  SK=<window start, epoch seconds>  count, expires_at (TTL, window end).
Keys carry hashes, never addresses (``domain/account_recovery.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import raise_if_contention


class DynamoDBRateLimiter:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def allow(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        seconds = int(window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"PK": {"S": f"LIMIT#{key}"}, "SK": {"S": str(start)}},
                UpdateExpression="ADD #count :one SET expires_at = :end",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":end": {"N": str(start + seconds)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise_if_contention(error)
            raise
        return True
