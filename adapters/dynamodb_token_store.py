"""TokenStore on the single table: a new recovery token's hash on the user item, with its mail
request, in one transaction (``domain/account_recovery.py``)."""

from __future__ import annotations

from typing import Any

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import cancellation_codes, raise_if_contention
from adapters.mail_outbox import outbox_put
from adapters.user_items import token_values, user_key
from domain.mail import MailRequest
from domain.recovery_tokens import IssuedToken, TokenPurpose


class DynamoDBTokenStore:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def issue_token(
        self, user_id: str, purpose: TokenPurpose, token: IssuedToken, message: MailRequest
    ) -> bool:
        values = token_values(purpose, token)
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": user_key(user_id),
                            "UpdateExpression": "SET "
                            + ", ".join(f"#{name} = :{name}" for name in values),
                            # Still the address the link is mailed to: an email change
                            # since the user was read must not let that link verify (or
                            # reset through) the new address.
                            "ConditionExpression": "attribute_exists(PK) AND #to = :to",
                            "ExpressionAttributeNames": {
                                "#to": "email",
                                **{f"#{name}": name for name in values},
                            },
                            "ExpressionAttributeValues": {
                                ":to": {"S": message.to},
                                **{f":{name}": {"S": value} for name, value in values.items()},
                            },
                        }
                    },
                    outbox_put(self._table, message),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[0] == "ConditionalCheckFailed":
                return False
            raise_if_contention(error)
            raise
        return True
