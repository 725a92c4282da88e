"""The mail outbox on the single table: one item per message to send.

Item: PK=MAIL#<message id>  SK=MAIL  kind, to, user_id, name, token_reference?, new_email?,
created_at, expires_at (TTL). API functions put it in the transaction that makes the change it
reports; the table stream, filtered to INSERTs of these items, feeds the mailer. The item holds a
token *reference*, never a usable token (``domain/recovery_tokens.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.dynamodb_values import attributes, plain
from domain.mail import MailRequest

MAIL_KEY_PREFIX = "MAIL#"
MAIL_SK = "MAIL"
# Long enough for the stream (24 h) and a replay; then DynamoDB's TTL removes the item.
OUTBOX_RETENTION = timedelta(days=2)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


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
            "Item": attributes(values),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def request_from_image(image: dict[str, Any]) -> MailRequest:
    """The request an outbox item (DynamoDB JSON, as in a stream record) holds; ValueError when
    it is not one."""
    values = plain(image)
    key = str(values.get("PK", ""))
    if not key.startswith(MAIL_KEY_PREFIX):
        raise ValueError("not a mail outbox item")
    fields = {name: values[name] for name in MailRequest.model_fields if name in values}
    return MailRequest.model_validate({**fields, "message_id": key.removeprefix(MAIL_KEY_PREFIX)})
