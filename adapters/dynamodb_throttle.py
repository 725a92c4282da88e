"""A scope's run of failed logins on one item (the user's or a trusted device's): counted with an
atomic ADD, its wait set only ever forward (``domain/login_throttle.py``).

Attributes: ``failed_logins`` (consecutive failures), ``locked_until`` (ISO 8601: no verdict
before then). Conditional writes that find the item gone write nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from adapters.dynamodb_conflicts import raise_if_contention
from adapters.user_items import iso_timestamp


def is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def update_if_exists(  # noqa: PLR0917 - one UpdateItem's parts, in its own order
    db: Any,
    table: str,
    key: dict[str, Any],
    expression: str,
    values: dict[str, Any] | None = None,
    condition: str = "attribute_exists(PK)",
    names: dict[str, str] | None = None,
) -> bool:
    """False when the item is gone (or the condition no longer holds): nothing to update."""
    extra: dict[str, Any] = {}
    if values:
        extra["ExpressionAttributeValues"] = values
    if names:
        extra["ExpressionAttributeNames"] = names
    try:
        db.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            **extra,
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return False
        raise_if_contention(error)
        raise
    return True


def count_failure(db: Any, table: str, key: dict[str, Any]) -> int | None:
    """The new count of consecutive failures; None when the item is gone."""
    try:
        counted = db.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET failed_logins = if_not_exists(failed_logins, :zero) + :one",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return None
        raise_if_contention(error)
        raise
    return int(counted["Attributes"]["failed_logins"]["N"])


def throttle(db: Any, table: str, key: dict[str, Any], until: datetime) -> None:
    """A wait set by a concurrent, later failure is never shortened (ISO 8601 in UTC with a
    ``Z`` compares in time order)."""
    at = iso_timestamp(until)
    update_if_exists(
        db,
        table,
        key,
        "SET locked_until = :until",
        {":until": {"S": at}},
        condition="attribute_exists(PK) AND "
        "(attribute_not_exists(locked_until) OR locked_until < :until)",
    )


def unchanged_since_read(failures: int) -> tuple[str, dict[str, Any]]:
    """The condition (and its values) that no failure was counted, and no wait is running at
    ``:now``, since the scope was read with ``failures``: a success then ends the run."""
    counted = "failed_logins = :read"
    if failures == 0:
        counted = f"(attribute_not_exists(failed_logins) OR {counted})"
    condition = f"(attribute_not_exists(locked_until) OR locked_until <= :now) AND {counted}"
    return condition, {":read": {"N": str(failures)}}
