"""ChallengeStore (domain/ports.py) on the single table (layout: adapters/passkey_items.py).

A challenge is consumed by a conditional delete that returns it: of two requests with one
challenge, one at most gets it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import raise_if_contention
from adapters.passkey_items import challenge_from_item, challenge_item, challenge_key, epoch
from domain.passkeys import Challenge, ChallengePurpose

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBChallengeStore:
    def __init__(self, table_name: str, db: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def put(self, challenge: Challenge) -> None:
        self._db.put_item(
            TableName=self._table,
            Item=challenge_item(challenge),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def take(self, challenge_id: str, purpose: ChallengePurpose, now: datetime) -> Challenge | None:
        try:
            taken = self._db.delete_item(
                TableName=self._table,
                Key=challenge_key(challenge_id),
                # TTL deletes lazily (within days): an expired challenge may still be stored.
                ConditionExpression="attribute_exists(PK) AND purpose = :purpose AND "
                "expires_at > :now",
                ExpressionAttributeValues={":purpose": {"S": str(purpose)}, ":now": epoch(now)},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise_if_contention(error)
            raise
        return challenge_from_item(challenge_id, taken["Attributes"])
