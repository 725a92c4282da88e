"""A user's email claim: the item (PK=EMAIL#<address>) that makes an address unique, written in
the same transaction as the user it names and released only by that user's own writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.user_items import claim_index_values, email_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def claim_email(table: str, email: str, user_id: str, shards: int) -> TransactWriteItemTypeDef:
    """Refused (cancelling the transaction) if another user holds the address."""
    return {
        "Put": {
            "TableName": table,
            "Item": {
                **email_key(email),
                "entity": {"S": "email"},
                "user_id": {"S": user_id},
                **{
                    name: {"S": value}
                    for name, value in claim_index_values(email, user_id, shards).items()
                },
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def release_email(table: str, email: str, user_id: str) -> TransactWriteItemTypeDef:
    """Only the claim's owner releases it."""
    return {
        "Delete": {
            "TableName": table,
            "Key": email_key(email),
            "ConditionExpression": "user_id = :owner",
            "ExpressionAttributeValues": {":owner": {"S": user_id}},
        }
    }
