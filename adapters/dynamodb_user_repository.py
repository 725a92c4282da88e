"""UserRepository on the single table ``UserRegistrationTable``.

Items (see README "Table design"):
- user:  PK=USER#<id>     SK=PROFILE  GSI1PK=USERS GSI1SK=<created_at>#<id>
- email: PK=EMAIL#<email> SK=EMAIL    user_id  (claims an address; written in the same transaction)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from adapters.aws import client
from domain.errors import EmailAlreadyExists, InvalidCursor, UserNotFound, VersionConflict
from domain.users import PROFILE_FIELDS, User, UserAccount, UserPage

USER_SK = "PROFILE"
EMAIL_SK = "EMAIL"
LIST_INDEX = "GSI1"
LIST_PARTITION = "USERS"

CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
"""base64url(JSON key) "." base64url(HMAC), unpadded."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def user_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": USER_SK}}


def email_key(email: str) -> dict[str, Any]:
    return {"PK": {"S": f"EMAIL#{email}"}, "SK": {"S": EMAIL_SK}}


def iso_timestamp(value: datetime) -> str:
    """How the table stores instants: ISO 8601 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def account_attributes(account: UserAccount, request_id: str | None = None) -> dict[str, Any]:
    """Every stored attribute of a user item except its keys; None values are left out.

    ``last_request_id`` lets the lifecycle events name the API request that caused them.
    """
    user = account.user
    values: dict[str, Any] = {
        "last_request_id": request_id,
        "entity": "user",
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "roles": [str(role) for role in user.roles],
        "status": str(user.status),
        "version": user.version,
        "created_at": iso_timestamp(user.created_at),
        "updated_at": iso_timestamp(user.updated_at),
        "password_hash": account.password_hash,
        "GSI1PK": LIST_PARTITION,
        "GSI1SK": f"{iso_timestamp(user.created_at)}#{user.id}",
    }
    for field in PROFILE_FIELDS:
        values[field] = getattr(user, field)
    if account.sessions_revoked_at is not None:
        values["sessions_revoked_at"] = iso_timestamp(account.sessions_revoked_at)
    return {name: _serializer.serialize(v) for name, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def user_from_item(item: dict[str, Any]) -> User:
    plain = _plain(item)
    return User.model_validate({f: plain[f] for f in User.model_fields if f in plain})


def account_from_item(item: dict[str, Any]) -> UserAccount:
    plain = _plain(item)
    return UserAccount(
        user=user_from_item(item),
        password_hash=plain["password_hash"],
        locked_until=plain.get("locked_until"),
        sessions_revoked_at=plain.get("sessions_revoked_at"),
        session_generation=int(plain.get("session_generation", 0)),
    )


class CursorCodec:
    """Opaque, tamper-evident pagination cursors: base64(JSON key) + HMAC-SHA256.

    The key is fetched on first use, so functions that never paginate never read the secret.
    """

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._key(), payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, last_key: dict[str, Any]) -> str:
        payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac(payload)}"

    def decode(self, cursor: str) -> dict[str, Any]:
        if re.fullmatch(CURSOR_PATTERN, cursor, flags=re.ASCII) is None:
            raise InvalidCursor
        try:
            body, mac = cursor.split(".")
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as error:
            raise InvalidCursor from error
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor
        decoded: dict[str, Any] = json.loads(payload)
        return decoded


def cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]


class DynamoDBUserRepository:
    def __init__(
        self,
        table_name: str,
        cursor_key: Callable[[], bytes],
        db: Any | None = None,
        request_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``db``: a DynamoDB client for another endpoint (the operator CLI on a stack);
        ``request_id``: the id of the API request being served, stored with each user write."""
        self._table = table_name
        self._cursors = CursorCodec(cursor_key)
        self._db = db or client("dynamodb")
        self._request_id = request_id

    def add(self, account: UserAccount) -> None:
        user = account.user
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **user_key(user.id),
                                **account_attributes(account, self._request_id()),
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    self._claim_email(user.email, user.id),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[1] == "ConditionalCheckFailed":
                raise EmailAlreadyExists from error
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

    def save(self, updated: UserAccount, previous: UserAccount) -> None:
        """Writes only what the use case changed: login bookkeeping, rehashes and session
        revocations made concurrently (without a version bump) are never overwritten."""
        before = account_attributes(previous)
        after = account_attributes(updated, self._request_id())
        attributes = {k: v for k, v in after.items() if before.get(k) != v}
        removed = [name for name in before if name not in after]
        names = {f"#{name}": name for name in [*attributes, *removed]}
        set_clause = ", ".join(f"#{name} = :{name}" for name in attributes)
        expression = f"SET {set_clause}" + (
            f" REMOVE {', '.join(f'#{name}' for name in removed)}" if removed else ""
        )
        # Added, never set: a revocation made concurrently (logout-all) is never undone.
        bump = updated.session_generation - previous.session_generation
        if bump:
            expression += " ADD session_generation :bump"
            attributes["bump"] = {"N": str(bump)}
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": user_key(updated.user.id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(PK) AND #version = :expected",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": {
                        **{f":{name}": value for name, value in attributes.items()},
                        ":expected": {"N": str(previous.user.version)},
                    },
                }
            }
        ]
        if updated.user.email != previous.user.email:
            items.append(self._claim_email(updated.user.email, updated.user.id))
            items.append(self._release_email(previous.user.email, previous.user.id))
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[0] == "ConditionalCheckFailed":
                raise VersionConflict from error
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise EmailAlreadyExists from error
            raise

    def remove(self, account: UserAccount) -> None:
        user = account.user
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": user_key(user.id),
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    },
                    self._release_email(user.email, user.id),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[0] == "ConditionalCheckFailed":
                raise UserNotFound from error
            raise

    def list_users(self, limit: int, cursor: str | None) -> UserPage:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "GSI1PK = :users",
            "ExpressionAttributeValues": {":users": {"S": LIST_PARTITION}},
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = self._cursors.decode(cursor)
        try:
            page = self._db.query(**query)
        except self._db.exceptions.ClientError as error:
            if cursor and error.response["Error"]["Code"] == "ValidationException":
                raise InvalidCursor from error
            raise
        last = page.get("LastEvaluatedKey")
        return UserPage(
            items=[user_from_item(item) for item in page["Items"]],
            next_cursor=self._cursors.encode(last) if last else None,
        )

    def _claim_email(self, email: str, user_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **email_key(email),
                    "entity": {"S": "email"},
                    "user_id": {"S": user_id},
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _release_email(self, email: str, user_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": email_key(email),
                "ConditionExpression": "user_id = :owner",
                "ExpressionAttributeValues": {":owner": {"S": user_id}},
            }
        }
