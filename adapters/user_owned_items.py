"""What a user owns besides its user item: every other item of its partition (``PK=USER#<id>``:
its passkeys) and the claim outside it that each names (``claim_pk``/``claim_sk``: a passkey's
credential claim). They go in the user's own deletion transaction, so nothing the user owned
outlives it, even for a moment (adapters/dynamodb_user_repository.py, ``remove``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.user_items import USER_PREFIX, USER_SK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def owned_item_deletes(
    db: DynamoDBClient, table: str, user_id: str
) -> list[TransactWriteItemTypeDef]:
    """Deletes of what the user owns now. An item added after this read comes with a new version
    of the user item (passkeys do), which the deletion's own condition then refuses: the
    deletion is redone on a fresh read, never leaving the new item behind."""
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :user",
        "ExpressionAttributeValues": {":user": {"S": f"{USER_PREFIX}{user_id}"}},
        "ProjectionExpression": "PK, SK, claim_pk, claim_sk",
        "ConsistentRead": True,
    }
    deletes: list[TransactWriteItemTypeDef] = []
    while True:
        page = db.query(**query)
        for item in page["Items"]:
            if item["SK"]["S"] == USER_SK:
                continue
            deletes.append(
                {"Delete": {"TableName": table, "Key": {"PK": item["PK"], "SK": item["SK"]}}}
            )
            if "claim_pk" in item and "claim_sk" in item:
                claim = {"PK": item["claim_pk"], "SK": item["claim_sk"]}
                deletes.append({"Delete": {"TableName": table, "Key": claim}})
        if "LastEvaluatedKey" not in page:
            return deletes
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
