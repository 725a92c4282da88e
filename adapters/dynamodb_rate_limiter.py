"""Fixed-window counters on the single table: the generic ``RateLimiter`` (mail limits) and the
per-source counters of the unauthenticated routes (``SourceCounters``, domain/source_limits.py).

Items: PK=LIMIT#<key>  SK=<window start, epoch seconds>  expires_at (TTL, window end) and
``count`` (RateLimiter), or one ``requests_<route>`` per route and ``failures`` (a source's
window). Keys carry hashes, never addresses. Each check is one conditional UpdateItem.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import raise_if_contention
from domain.source_limits import SourceLimits


def _window_key(key: str, start: int) -> dict[str, Any]:
    return {"PK": {"S": f"LIMIT#{key}"}, "SK": {"S": str(start)}}


class DynamoDBRateLimiter:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def allow(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        seconds = int(window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        return self._count(
            _window_key(key, start),
            "ADD #count :one SET expires_at = :end",
            "attribute_not_exists(#count) OR #count < :limit",
            {"#count": "count"},
            {":limit": {"N": str(limit)}, ":end": {"N": str(start + seconds)}},
        )

    # ------------------------------------------------------------ SourceCounters
    def admit(self, source_key: str, route: str, limits: SourceLimits, window_start: int) -> bool:
        return self._count(
            _window_key(source_key, window_start),
            "ADD #route :one SET expires_at = :end",
            "(attribute_not_exists(#route) OR #route < :requests)"
            " AND (attribute_not_exists(failures) OR failures < :failures)",
            {"#route": f"requests_{route}"},
            {
                ":requests": {"N": str(limits.requests)},
                ":failures": {"N": str(limits.failures)},
                ":end": {"N": str(window_start + int(limits.window.total_seconds()))},
            },
        )

    def count_failure(self, source_key: str, limits: SourceLimits, window_start: int) -> None:
        self._count(
            _window_key(source_key, window_start),
            "ADD failures :one SET expires_at = :end",
            None,
            None,
            {":end": {"N": str(window_start + int(limits.window.total_seconds()))}},
        )

    def _count(
        self,
        key: dict[str, Any],
        expression: str,
        condition: str | None,
        names: dict[str, str] | None,
        values: dict[str, Any],
    ) -> bool:
        """False when ``condition`` (a limit) refused the count."""
        extra: dict[str, Any] = {}
        if condition:
            extra["ConditionExpression"] = condition
        if names:
            extra["ExpressionAttributeNames"] = names
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeValues={":one": {"N": "1"}, **values},
                **extra,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise_if_contention(error)
            raise
        return True
