"""The mail outbox on the single table: one item per message to send.

Item: PK=MAIL#<message id>  SK=MAIL  kind, to, user_id, name, token_reference?, new_email?,
created_at, expires_at (TTL). API functions put it in the transaction that makes the change it
reports; the table stream, filtered to INSERTs of these items, feeds the mailer. The item holds a
token *reference*, never a usable token (``domain/recovery_tokens.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from domain.mail import MailRequest

MAIL_KEY_PREFIX = "MAIL#"
MAIL_SK = "MAIL"
# Long enough for the stream (24 h) and a replay; then DynamoDB's TTL removes the item.
OUTBOX_RETENTION = timedelta(days=2)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def outbox_put(
    table: str, request: MailRequest, now: datetime | None = None
) -> TransactWriteItemTypeDef:
    """A TransactItems entry that queues ``request``."""
    now = now or datetime.now(UTC)
    values = {
        "PK": f"{MAIL_KEY_PREFIX}{request.message_id}",
        "SK": MAIL_SK,
        "entity": "mail",
        **request.model_dump(mode="json", exclude={"message_id"}, exclude_none=True),
        "created_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "expires_at": int((now + OUTBOX_RETENTION).timestamp()),
    }
    return {
        "Put": {
            "TableName": table,
            "Item": {name: _serializer.serialize(value) for name, value in values.items()},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def request_from_image(image: dict[str, Any]) -> MailRequest:
    """The request an outbox item (DynamoDB JSON, as in a stream record) holds; ValueError when
    it is not one."""
    plain = {name: _deserializer.deserialize(value) for name, value in image.items()}
    key = str(plain.get("PK", ""))
    if not key.startswith(MAIL_KEY_PREFIX):
        raise ValueError("not a mail outbox item")
    fields = {name: plain[name] for name in MailRequest.model_fields if name in plain}
    return MailRequest.model_validate({**fields, "message_id": key.removeprefix(MAIL_KEY_PREFIX)})


class SentMailLedger:
    """Which outbox messages were already handed to SES, recorded on their own outbox item.

    Lambda retries a stream batch from its lowest failed record, so messages after a failed one
    (and every message of a batch that timed out) arrive again: the mailer skips those recorded
    as sent. A crash between the send and the record still sends twice: a rare duplicate rather
    than a lost reset link. Writing ``sent_at`` is a MODIFY, which the mailer's filter (INSERTs of
    outbox items) never delivers.
    """

    def __init__(self, table: str, db: DynamoDBClient | None = None) -> None:
        self._table = table
        self._db = db

    def _client(self) -> DynamoDBClient:
        if self._db is None:
            from adapters.aws_clients import client

            self._db = client("dynamodb")
        return self._db

    def _key(self, message_id: str) -> dict[str, Any]:
        return {"PK": {"S": f"{MAIL_KEY_PREFIX}{message_id}"}, "SK": {"S": MAIL_SK}}

    def was_sent(self, message_id: str) -> bool:
        item = self._client().get_item(
            TableName=self._table,
            Key=self._key(message_id),
            ConsistentRead=True,
            ProjectionExpression="sent_at",
        )
        return "sent_at" in item.get("Item", {})

    def record_sent(self, message_id: str, ses_id: str, now: datetime | None = None) -> None:
        """Marks the message sent; nothing when its item is already gone (TTL, 2 days)."""
        sent_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
        db = self._client()
        try:
            db.update_item(
                TableName=self._table,
                Key=self._key(message_id),
                UpdateExpression="SET sent_at = :sent_at, ses_message_id = :ses_id",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":sent_at": {"S": sent_at}, ":ses_id": {"S": ses_id}},
            )
        except db.exceptions.ConditionalCheckFailedException:
            return
