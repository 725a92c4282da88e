"""`userflow users backfill`: gives every user item and email claim the index keys of today's
layout (sharded list, last change, addresses: adapters/user_items.py), so that items written
before it, or under another shard count, are found by GET /users. Idempotent (an item already
right is not written) and resumable (the scan's position is saved after each page). A write
never undoes a concurrent change: it is conditional on the version (or owner) it was computed
from, and any write of the API stores the keys itself."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from adapters.user_items import (
    EMAIL_SK,
    USER_PREFIX,
    USER_SK,
    claim_index_values,
    user_from_item,
    user_index_values,
)
from userflow.users.importer import Throttle


def _wanted(item: dict[str, Any], shards: int) -> dict[str, str] | None:
    if item["SK"]["S"] == USER_SK and item["PK"]["S"].startswith(USER_PREFIX):
        return user_index_values(user_from_item(item), shards)
    if item["SK"]["S"] == EMAIL_SK and "user_id" in item:
        return claim_index_values(
            item["PK"]["S"].removeprefix("EMAIL#"), item["user_id"]["S"], shards
        )
    return None


def _condition(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "version" in item:
        return "#version = :expected", {":expected": item["version"]}
    return "user_id = :expected", {":expected": item["user_id"]}


def backfill(
    db: Any,
    table: str,
    shards: int,
    checkpoint: Path,
    *,
    rate: float,
    progress: Any,
    page_size: int = 500,
) -> Counter[str]:
    """Counts of what was done to each item (updated, unchanged, changed meanwhile, skipped).
    ``checkpoint``: where the scan's position is kept between pages; a run that finds it goes
    on from there, and a finished run deletes it."""
    counts: Counter[str] = Counter()
    throttle = Throttle(rate)
    start = json.loads(checkpoint.read_text()) if checkpoint.exists() else None
    while True:
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "(begins_with(PK, :user) AND SK = :profile) OR SK = :email",
            "ExpressionAttributeValues": {
                ":user": {"S": USER_PREFIX},
                ":profile": {"S": USER_SK},
                ":email": {"S": EMAIL_SK},
            },
            "Limit": page_size,
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = db.scan(**request)
        for item in page["Items"]:
            counts[_backfill_item(db, table, item, shards, throttle)] += 1
            progress.update(1)
        start = page.get("LastEvaluatedKey")
        if start is None:
            checkpoint.unlink(missing_ok=True)
            return counts
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(json.dumps(start))


def _backfill_item(
    db: Any, table: str, item: dict[str, Any], shards: int, throttle: Throttle
) -> str:
    wanted = _wanted(item, shards)
    if wanted is None:
        return "skipped"
    if all(item.get(name, {}).get("S") == value for name, value in wanted.items()):
        return "unchanged"
    condition, values = _condition(item)
    throttle.wait()
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {"PK": item["PK"], "SK": item["SK"]},
        "UpdateExpression": "SET " + ", ".join(f"{name} = :{name}" for name in wanted),
        "ConditionExpression": f"attribute_exists(PK) AND {condition}",
        "ExpressionAttributeValues": {
            **{f":{name}": {"S": value} for name, value in wanted.items()},
            **values,
        },
    }
    if "version" in item:
        request["ExpressionAttributeNames"] = {"#version": "version"}
    try:
        db.update_item(**request)
    except db.exceptions.ConditionalCheckFailedException:
        return "changed meanwhile"  # its writer stored the keys itself
    return "updated"
