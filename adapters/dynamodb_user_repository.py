"""UserRepository on the single table ``UserRegistrationTable``.

Items (see README "Table design"):
- user:  PK=USER#<id>     SK=PROFILE  GSI1PK=USERS GSI1SK=<created_at>#<id>
- email: PK=EMAIL#<email> SK=EMAIL    user_id  (claims an address; written in the same transaction)
- mail:  PK=MAIL#<id>     SK=MAIL     the outbox (``adapters/mail_outbox.py``), in the same
  transaction as the change a message reports
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.cursor_codec import CursorCodec
from adapters.mail_outbox import outbox_put
from domain.errors import EmailAlreadyExists, InvalidCursor, UserNotFound, VersionConflict
from domain.mail import MailRequest
from domain.recovery_tokens import IssuedToken, TokenPurpose
from domain.users import PROFILE_FIELDS, TOKEN_FIELDS, User, UserAccount, UserPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

USER_PREFIX = "USER#"
USER_SK = "PROFILE"
EMAIL_SK = "EMAIL"
LIST_INDEX = "GSI1"
LIST_PARTITION = "USERS"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def user_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"{USER_PREFIX}{user_id}"}, "SK": {"S": USER_SK}}


def is_user_key(keys: dict[str, Any]) -> bool:
    """Whether plain key values (``{"PK": ..., "SK": ...}``) are a user item's."""
    pk, sk = keys.get("PK"), keys.get("SK")
    return isinstance(pk, str) and pk.startswith(USER_PREFIX) and sk == USER_SK


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
        "email_verified": user.email_verified,
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
    if account.locked_until is not None:
        values["locked_until"] = iso_timestamp(account.locked_until)
    if account.failed_logins:
        values["failed_logins"] = account.failed_logins
    for purpose in TokenPurpose:
        token = account.token(purpose)
        if token is not None:
            values |= token_values(purpose, token)
    return {name: _serializer.serialize(v) for name, v in values.items() if v is not None}


TOKEN_ATTRIBUTES = [
    f"{TOKEN_FIELDS[purpose]}_{part}" for purpose in TokenPurpose for part in ("hash", "expires_at")
]


def token_values(purpose: TokenPurpose, token: IssuedToken) -> dict[str, str]:
    """How the user item keeps its newest token of a purpose: hash and expiry, never the token."""
    field = TOKEN_FIELDS[purpose]
    return {
        f"{field}_hash": token.token_hash,
        f"{field}_expires_at": iso_timestamp(token.expires_at),
    }


def _stored_token(plain: dict[str, Any], purpose: TokenPurpose) -> IssuedToken | None:
    field = TOKEN_FIELDS[purpose]
    if f"{field}_hash" not in plain:
        return None
    return IssuedToken(
        token_hash=plain[f"{field}_hash"],
        expires_at=datetime.fromisoformat(plain[f"{field}_expires_at"]),
    )


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def user_from_values(values: dict[str, Any]) -> User:
    """The public user in an item's plain values (stored items and stream images alike)."""
    return User.model_validate({f: values[f] for f in User.model_fields if f in values})


def user_from_item(item: dict[str, Any]) -> User:
    return user_from_values(_plain(item))


def account_from_item(item: dict[str, Any]) -> UserAccount:
    plain = _plain(item)
    return UserAccount(
        user=user_from_item(item),
        password_hash=plain["password_hash"],
        locked_until=plain.get("locked_until"),
        failed_logins=int(plain.get("failed_logins", 0)),
        sessions_revoked_at=plain.get("sessions_revoked_at"),
        session_generation=int(plain.get("session_generation", 0)),
        verify_token=_stored_token(plain, TokenPurpose.VERIFY_EMAIL),
        reset_token=_stored_token(plain, TokenPurpose.RESET_PASSWORD),
    )


def cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]


class DynamoDBUserRepository:
    def __init__(
        self,
        table_name: str,
        cursor_key: Callable[[], bytes],
        db: DynamoDBClient | None = None,
        request_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``db``: a DynamoDB client for another endpoint (the operator CLI on a stack);
        ``request_id``: the id of the API request being served, stored with each user write."""
        self._table = table_name
        self._cursors = CursorCodec(cursor_key)
        self._db = db or client("dynamodb")
        self._request_id = request_id

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
                                **account_attributes(account, self._request_id()),
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    self._claim_email(user.email, user.id),
                    *(outbox_put(self._table, message) for message in messages),
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

    def save(
        self,
        updated: UserAccount,
        previous: UserAccount,
        messages: Sequence[MailRequest] = (),
        token_used: TokenPurpose | None = None,
    ) -> None:
        """Writes only what the use case changed: login bookkeeping, rehashes and session
        revocations made concurrently (without a version bump) are never overwritten."""
        before = account_attributes(previous)
        after = account_attributes(updated, self._request_id())
        attributes = {k: v for k, v in after.items() if before.get(k) != v}
        removed = [name for name in before if name not in after]
        if "last_request_id" not in after:  # a change without a request id: forget the old one
            removed.append("last_request_id")
        if updated.password_hash != previous.password_hash:
            # A link issued concurrently (after ``previous`` was read) dies with the password too.
            removed += [n for n in TOKEN_ATTRIBUTES if n not in after and n not in removed]
        condition = "attribute_exists(PK) AND #version = :expected"
        expected: dict[str, Any] = {":expected": {"N": str(previous.user.version)}}
        token_names: dict[str, str] = {}
        if token_used is not None:
            # The token being used is still the stored one: used once, and only if not superseded.
            stored = previous.token(token_used)
            name = f"{TOKEN_FIELDS[token_used]}_hash"
            token_names = {"#used_token": name}
            condition += " AND #used_token = :used_token"
            expected[":used_token"] = {"S": stored.token_hash if stored else ""}
        names = {f"#{name}": name for name in [*attributes, *removed, "version"]} | token_names
        set_clause = ", ".join(f"#{name} = :{name}" for name in attributes)
        expression = f"SET {set_clause}" + (
            f" REMOVE {', '.join(f'#{name}' for name in removed)}" if removed else ""
        )
        # Added, never set: a revocation made concurrently (logout-all) is never undone.
        bump = updated.session_generation - previous.session_generation
        if bump:
            expression += " ADD session_generation :bump"
            attributes["bump"] = {"N": str(bump)}
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": user_key(updated.user.id),
                    "UpdateExpression": expression,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": {
                        **{f":{name}": value for name, value in attributes.items()},
                        **expected,
                    },
                }
            }
        ]
        if updated.user.email != previous.user.email:
            items.append(self._claim_email(updated.user.email, updated.user.id))
            items.append(self._release_email(previous.user.email, previous.user.id))
        items.extend(outbox_put(self._table, message) for message in messages)
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[0] == "ConditionalCheckFailed":
                raise VersionConflict from error
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise EmailAlreadyExists from error
            raise

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        """Two writes, as one item cannot appear twice in a transaction: the deletion's version,
        time and request id are stamped on the item, then the item goes with its email claim.
        The stream's REMOVE image therefore names the deletion, not the last update."""
        user = previous.user
        self._stamp_deletion(deleted, previous)
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
                    self._release_email(user.email, user.id),
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[0] == "ConditionalCheckFailed":
                raise self._conflict_or_gone(user.id) from error
            raise

    def _stamp_deletion(self, deleted: UserAccount, previous: UserAccount) -> None:
        request_id = self._request_id()
        values = {
            ":version": {"N": str(deleted.user.version)},
            ":updated_at": {"S": iso_timestamp(deleted.user.updated_at)},
            ":expected": {"N": str(previous.user.version)},
        }
        expression = "SET #version = :version, #updated_at = :updated_at"
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
                },
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException as error:
            raise self._conflict_or_gone(previous.user.id) from error

    def _conflict_or_gone(self, user_id: str) -> Exception:
        found = self._db.get_item(TableName=self._table, Key=user_key(user_id), ConsistentRead=True)
        return VersionConflict() if "Item" in found else UserNotFound()

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
        verified = self._verified_emails([item["PK"] for item in page["Items"]])
        return UserPage(
            items=[
                user_from_item({**item, "email_verified": {"BOOL": item["PK"]["S"] in verified}})
                for item in page["Items"]
            ],
            next_cursor=self._cursors.encode(last) if last else None,
        )

    def _verified_emails(self, keys: Sequence[Any]) -> set[str]:
        """Which of a page's users verified their email. GSI1's projection cannot change on a
        deployed table (CloudFormation refuses it), so this one attribute is read from the items,
        never more (no hash ever leaves the table)."""
        pending: list[dict[str, Any]] = [{"PK": key, "SK": {"S": USER_SK}} for key in keys]
        verified: set[str] = set()
        while pending:
            request: Any = {"Keys": pending[:100], "ProjectionExpression": "PK, email_verified"}
            answer: Any = self._db.batch_get_item(RequestItems={self._table: request})
            for item in answer["Responses"].get(self._table, []):
                if item.get("email_verified", {}).get("BOOL"):
                    verified.add(item["PK"]["S"])
            unprocessed = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            pending = unprocessed + pending[100:]
        return verified

    def _claim_email(self, email: str, user_id: str) -> TransactWriteItemTypeDef:
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

    def _release_email(self, email: str, user_id: str) -> TransactWriteItemTypeDef:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": email_key(email),
                "ConditionExpression": "user_id = :owner",
                "ExpressionAttributeValues": {":owner": {"S": user_id}},
            }
        }
