"""UserRepository on the single table ``UserRegistrationTable``: conditional and transactional
writes of the user item, its email claim and the mail outbox (``adapters/mail_outbox.py``) in the
same transaction as the change a message reports. The item layout: ``adapters/user_items.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.cursor_codec import CursorCodec
from adapters.dynamodb_conflicts import cancellation_codes, raise_if_contention
from adapters.email_claims import claim_email, release_email
from adapters.mail_outbox import outbox_put
from adapters.security_stamps import LAST_ACTOR, ActorOf, actor_value
from adapters.tombstones import DEFAULT_RETENTION, tombstone_put
from adapters.user_items import (
    DEFAULT_SHARDS,
    LEGACY_LIST_PARTITION,
    LIST_INDEX,
    account_attributes,
    account_from_item,
    created_partition,
    email_key,
    iso_timestamp,
    user_key,
)
from adapters.user_owned_items import owned_item_deletes
from adapters.user_search import UserSearch
from adapters.user_updates import user_update
from domain.actors import Actor
from domain.errors import EmailAlreadyExists, UserNotFound, VersionConflict
from domain.mail import MailRequest
from domain.recovery_tokens import TokenPurpose
from domain.user_search import UserQuery
from domain.users import Role, UserAccount, UserPage, UserStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class DynamoDBUserRepository:
    def __init__(
        self,
        table_name: str,
        cursor_key: Callable[[], bytes],
        db: DynamoDBClient | None = None,
        request_id: Callable[[], str | None] = lambda: None,
        shards: int = DEFAULT_SHARDS,
        *,
        actor: ActorOf = Actor.user,
        tombstone_retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        """``db``: a DynamoDB client for another endpoint (the operator CLI on a stack);
        ``request_id``: the id of the API request being served, stored with each user write;
        ``shards``: partitions per index order (template parameter UserIndexShards);
        ``actor``: who makes a change of the user with a given id, stored with it (with the
        security events it is: domain/security_events.py); ``tombstone_retention``: how long
        a deleted user's tombstone is kept (adapters/tombstones.py)."""
        self._table = table_name
        self._db = db or client("dynamodb")
        self._request_id = request_id
        self._shards = shards
        self._search = UserSearch(self._db, table_name, shards, CursorCodec(cursor_key))
        self._actor = actor
        self._tombstone_retention = tombstone_retention

    def add(self, account: UserAccount, messages: Sequence[MailRequest] = ()) -> None:
        user = account.user
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **user_key(user.id),
                                **account_attributes(account, self._request_id(), self._shards),
                                LAST_ACTOR: actor_value(self._actor(user.id)),
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    claim_email(self._table, user.email, user.id, self._shards),
                    *(outbox_put(self._table, message) for message in messages),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[1] == "ConditionalCheckFailed":
                raise EmailAlreadyExists from error
            raise_if_contention(error)
            raise

    def get(self, user_id: str) -> UserAccount:
        found = self._db.get_item(TableName=self._table, Key=user_key(user_id), ConsistentRead=True)
        if "Item" not in found:
            raise UserNotFound
        return account_from_item(found["Item"])

    def find_by_email(self, email: str) -> UserAccount | None:
        claim = self._db.get_item(TableName=self._table, Key=email_key(email), ConsistentRead=True)
        if "Item" not in claim:
            return None
        try:
            return self.get(claim["Item"]["user_id"]["S"])
        except UserNotFound:
            return None

    def save(
        self,
        updated: UserAccount,
        previous: UserAccount,
        messages: Sequence[MailRequest] = (),
        token_used: TokenPurpose | None = None,
        admin_kept: str | None = None,
    ) -> None:
        """Writes only what the use case changed: login bookkeeping, rehashes and session
        revocations made concurrently (without a version bump) are never overwritten."""
        actor = self._actor(updated.user.id)
        items: list[TransactWriteItemTypeDef] = [
            user_update(
                self._table,
                updated,
                previous,
                actor,
                request_id=self._request_id(),
                shards=self._shards,
                token_used=token_used,
            )
        ]
        if updated.user.email != previous.user.email:
            items.append(
                claim_email(self._table, updated.user.email, updated.user.id, self._shards)
            )
            items.append(release_email(self._table, previous.user.email, previous.user.id))
        items.extend(outbox_put(self._table, message) for message in messages)
        if admin_kept is not None:
            items.append(self._still_enabled_admin(admin_kept))
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[0] == "ConditionalCheckFailed" or (
                admin_kept is not None and codes[-1] == "ConditionalCheckFailed"
            ):
                raise VersionConflict from error
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise EmailAlreadyExists from error
            raise_if_contention(error)
            raise

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        """Two writes, as one item cannot appear twice in a transaction: the deletion's version,
        time and request id are stamped on the item, then the item goes with its email claim,
        leaving its tombstone.
        The stream's REMOVE image therefore names the deletion, not the last update. What the
        user owns (its passkeys) goes in the same transaction (adapters/user_owned_items.py)."""
        user = previous.user
        self._stamp_deletion(deleted, previous)
        owned = owned_item_deletes(self._db, self._table, user.id)
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": user_key(user.id),
                            "ConditionExpression": "#version = :stamped",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {
                                ":stamped": {"N": str(deleted.user.version)}
                            },
                        }
                    },
                    release_email(self._table, user.email, user.id),
                    tombstone_put(
                        self._table,
                        deleted.user,
                        self._actor(user.id),
                        self._tombstone_retention,
                    ),
                    *owned,
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[0] == "ConditionalCheckFailed":
                raise self._conflict_or_gone(user.id) from error
            raise_if_contention(error)
            raise

    def _stamp_deletion(self, deleted: UserAccount, previous: UserAccount) -> None:
        request_id = self._request_id()
        values = {
            ":version": {"N": str(deleted.user.version)},
            ":updated_at": {"S": iso_timestamp(deleted.user.updated_at)},
            ":expected": {"N": str(previous.user.version)},
        }
        expression = "SET #version = :version, #updated_at = :updated_at, #actor = :actor"
        values[":actor"] = actor_value(self._actor(previous.user.id))
        if request_id is None:
            expression += " REMOVE #request"
        else:
            expression += ", #request = :request"
            values[":request"] = {"S": request_id}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=user_key(previous.user.id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK) AND #version = :expected",
                ExpressionAttributeNames={
                    "#version": "version",
                    "#updated_at": "updated_at",
                    "#request": "last_request_id",
                    "#actor": LAST_ACTOR,
                },
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException as error:
            raise self._conflict_or_gone(previous.user.id) from error
        except ClientError as error:
            raise_if_contention(error)
            raise

    def _conflict_or_gone(self, user_id: str) -> Exception:
        found = self._db.get_item(TableName=self._table, Key=user_key(user_id), ConsistentRead=True)
        return VersionConflict() if "Item" in found else UserNotFound()

    def list_users(
        self, limit: int, cursor: str | None, query: UserQuery | None = None
    ) -> UserPage:
        return self._search.page(query or UserQuery(), limit, cursor)

    def other_enabled_admin(self, excluding: str) -> str | None:
        """Reads the active users' partitions of the listing index (which projects roles) until
        one is found: a scan of the active users, paid only when an admin is disabled or demoted."""
        active = UserStatus.ACTIVE.value
        partitions = [
            created_partition(active, verified, shard)
            for verified in (True, False)
            for shard in range(self._shards)
        ]
        for partition in [*partitions, LEGACY_LIST_PARTITION]:
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": LIST_INDEX,
                "KeyConditionExpression": "GSI1PK = :partition",
                "FilterExpression": "contains(#roles, :admin) AND #status = :active AND id <> :me",
                "ExpressionAttributeNames": {"#roles": "roles", "#status": "status"},
                "ExpressionAttributeValues": {
                    ":partition": {"S": partition},
                    ":admin": {"S": Role.ADMIN.value},
                    ":active": {"S": active},
                    ":me": {"S": excluding},
                },
                "ProjectionExpression": "id",
            }
            while True:
                page = self._db.query(**query)
                if page["Items"]:
                    return str(page["Items"][0]["id"]["S"])
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return None

    def _still_enabled_admin(self, user_id: str) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": user_key(user_id),
                "ConditionExpression": "contains(#roles, :admin) AND #status = :active",
                "ExpressionAttributeNames": {"#roles": "roles", "#status": "status"},
                "ExpressionAttributeValues": {
                    ":admin": {"S": Role.ADMIN.value},
                    ":active": {"S": UserStatus.ACTIVE.value},
                },
            }
        }
