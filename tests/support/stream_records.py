"""Factories for DynamoDB stream records as Lambda delivers them, built from real stored items."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from adapters.user_items import account_attributes, user_key
from domain.users import User, UserAccount

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/users-test"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
CREATED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
_sequence = itertools.count(100000000000000000000001)


def user_image(**changes: Any) -> dict[str, Any]:
    """A stored user item in DynamoDB JSON; keyword arguments change User fields."""
    fields: dict[str, Any] = {
        "id": "u-1",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        **changes,
    }
    account = UserAccount(user=User(**fields), password_hash="scrypt$16384$8$1$salt$secrethash")
    return {**user_key(fields["id"]), **account_attributes(account)}


def stream_record(
    event_name: str,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    sequence_number: str | None = None,
    created: datetime = datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
) -> dict[str, Any]:
    image = new or old or {}
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": created.timestamp(),
        "Keys": {"PK": image.get("PK", {"S": "USER#u-1"}), "SK": image.get("SK", {"S": "PROFILE"})},
        "SequenceNumber": sequence_number or str(next(_sequence)),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    return {
        "eventID": f"evt-{dynamodb['SequenceNumber']}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": dynamodb,
    }


def created(user_id: str = "u-1", **changes: Any) -> dict[str, Any]:
    return stream_record("INSERT", new=user_image(id=user_id, **changes))


def poison(sequence_number: str | None = None) -> dict[str, Any]:
    """An INSERT whose image lacks required user fields: it will never map."""
    image = {"PK": {"S": "USER#broken"}, "SK": {"S": "PROFILE"}, "email": {"N": "5"}}
    return stream_record("INSERT", new=image, sequence_number=sequence_number)


def as_published(detail_type: str, detail: str | dict[str, Any]) -> dict[str, Any]:
    """The whole EventBridge event a detail is published as (its JSON, or parsed)."""
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": str(detail_type),
        "source": "userflow.users",
        "account": "123456789012",
        "time": "2026-03-01T09:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(detail) if isinstance(detail, str) else detail,
    }


def assert_published_event_is_valid(event: dict[str, Any]) -> None:
    """A whole EventBridge event matches its committed schema and carries no secret."""
    schema_path = Path(__file__).resolve().parents[2] / "schemas" / f"{event['detail-type']}.json"
    schema = json.loads(schema_path.read_text())
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(event)
    text = json.dumps(event["detail"]).lower()
    assert "password_hash" not in text
    assert "hash" not in text
    assert "scrypt$" not in text
