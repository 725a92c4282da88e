"""PasskeyRepository (domain/ports.py) on the single table; the item layout is
``adapters/passkey_items.py``.

Adding or removing a passkey is one transaction: the passkey item, its credential claim, the user
item at its next version (``passkey_count``, conditioned on the version read, as every user write
is) and the user's notice in the mail outbox. Blocking a cloned passkey is one too: the passkey,
the user's sign-out at their next version (SessionsRevoked) and the notice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import cancellation_codes, raise_if_contention
from adapters.mail_outbox import outbox_put
from adapters.passkey_items import (
    PASSKEY_SK_PREFIX,
    blocked_passkey,
    claim_key,
    passkey_from_item,
    passkey_item,
    passkey_key,
    passkey_use,
)
from adapters.passkey_user_writes import signed_out, user_at_version
from adapters.security_stamps import MAX_ATTEMPTS, ActorOf
from adapters.user_items import (
    USER_PREFIX,
    email_key,
    user_key,
)
from domain.actors import Actor
from domain.errors import PasskeyNotFound, VersionConflict
from domain.mail import MailRequest
from domain.passkeys import PasskeyUse, StoredPasskey
from domain.users import UserAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CONDITION_FAILED = "ConditionalCheckFailed"


def _conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDBPasskeyRepository:
    def __init__(
        self,
        table_name: str,
        db: DynamoDBClient | None = None,
        request_id: Callable[[], str | None] = lambda: None,
        actor: ActorOf = Actor.user,
    ) -> None:
        """``request_id``: the API request being served, stamped on the user item it changes
        (lifecycle events name it as their ``correlation_id``), with its ``actor``."""
        self._table = table_name
        self._db = db or client("dynamodb")
        self._request_id = request_id
        self._actor = actor

    # ------------------------------------------------------------ reads
    def list_for_user(self, user_id: str) -> list[StoredPasskey]:
        found: list[StoredPasskey] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :user AND begins_with(SK, :passkey)",
            "ExpressionAttributeValues": {
                ":user": {"S": f"{USER_PREFIX}{user_id}"},
                ":passkey": {"S": PASSKEY_SK_PREFIX},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**query)
            found.extend(passkey_from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda passkey: passkey.created_at)
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def find(self, passkey_id: str) -> StoredPasskey | None:
        claim = self._item(claim_key(passkey_id))
        if claim is None:
            return None
        item = self._item(passkey_key(claim["user_id"]["S"], passkey_id))
        return None if item is None else passkey_from_item(item)

    def user_id_by_email(self, email: str) -> str | None:
        claim = self._item(email_key(email))
        return None if claim is None else str(claim["user_id"]["S"])

    def _item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return found.get("Item")

    # ------------------------------------------------------------ changes
    def add(
        self,
        passkey: StoredPasskey,
        updated: UserAccount,
        previous: UserAccount,
        notice: MailRequest,
    ) -> bool:
        new = "attribute_not_exists(PK)"
        try:
            self._db.transact_write_items(
                TransactItems=[
                    self._user_write(updated, previous),
                    {"Put": {"TableName": self._table, "Item": passkey_item(passkey)}},
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **claim_key(passkey.id),
                                "entity": {"S": "passkey_claim"},
                                "user_id": {"S": passkey.user_id},
                            },
                            "ConditionExpression": new,
                        }
                    },
                    outbox_put(self._table, notice),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[0] == CONDITION_FAILED:
                raise VersionConflict from error
            if codes[2] == CONDITION_FAILED:
                return False
            raise_if_contention(error)
            raise
        return True

    def remove(
        self,
        passkey: StoredPasskey,
        updated: UserAccount,
        previous: UserAccount,
        notice: MailRequest,
    ) -> None:
        exists = "attribute_exists(PK)"
        try:
            self._db.transact_write_items(
                TransactItems=[
                    self._user_write(updated, previous),
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": passkey_key(passkey.user_id, passkey.id),
                            "ConditionExpression": exists,
                        }
                    },
                    {"Delete": {"TableName": self._table, "Key": claim_key(passkey.id)}},
                    outbox_put(self._table, notice),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[0] == CONDITION_FAILED:
                raise VersionConflict from error
            if codes[1] == CONDITION_FAILED:
                raise PasskeyNotFound from error
            raise_if_contention(error)
            raise

    def rename(self, passkey: StoredPasskey, name: str) -> bool:
        return self._conditionally(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=passkey_key(passkey.user_id, passkey.id),
                UpdateExpression="SET #name = :name",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#name": "name"},
                ExpressionAttributeValues={":name": {"S": name}},
            )
        )

    def record_use(self, passkey: StoredPasskey, use: PasskeyUse) -> bool:
        update: Any = passkey_use(self._table, passkey, use)["Update"]
        return self._conditionally(lambda: self._db.update_item(**update))

    def block(
        self, passkey: StoredPasskey, owner: UserAccount, now: datetime, notice: MailRequest
    ) -> None:
        """The user's sign-out is their next version, stamped SessionsRevoked (by the system,
        ``passkey_cloned``) for the stream to publish; redone at the version a concurrent change
        left. Nothing is written once the passkey is blocked or gone, or the user is."""
        version = owner.user.version
        for _ in range(MAX_ATTEMPTS):
            try:
                self._db.transact_write_items(
                    TransactItems=[
                        blocked_passkey(self._table, passkey, now),
                        signed_out(self._table, owner.user.id, version, now, self._request_id()),
                        outbox_put(self._table, notice),
                    ]
                )
            except self._db.exceptions.TransactionCanceledException as error:
                codes = cancellation_codes(error)
                if codes[0] == CONDITION_FAILED:
                    return  # blocked by a concurrent request, or removed: nothing left to do
                if codes[1] != CONDITION_FAILED:
                    raise_if_contention(error)
                    raise
                current = self._item(user_key(owner.user.id))
                if current is None:
                    return  # the user was deleted meanwhile, their passkeys with them
                version = int(current["version"]["N"])
                continue
            return
        raise RuntimeError(f"user {owner.user.id} kept changing: the passkey was not blocked")

    def _user_write(self, updated: UserAccount, previous: UserAccount) -> TransactWriteItemTypeDef:
        actor = self._actor(updated.user.id)
        return user_at_version(self._table, updated, previous, actor, self._request_id())

    @staticmethod
    def _conditionally(write: Callable[[], object]) -> bool:
        """False when the write's condition does not hold (nothing was written)."""
        try:
            write()
        except ClientError as error:
            if _conditional_failure(error):
                return False
            raise_if_contention(error)
            raise
        return True
