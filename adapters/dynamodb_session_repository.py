"""Refresh sessions and login bookkeeping on the single table.

Items (see README "Table design"):
- refresh token:  PK=REFRESH#<sha256 of the token>  SK=REFRESH  user_id, family_id, expires_at
  (TTL, epoch seconds), rotated_at once it has been exchanged. The token itself is never stored.
- session family: PK=FAMILY#<id>  SK=FAMILY  user_id, created_at, expires_at (TTL), auth_time,
  amr (the login's methods, a list), revoked_at. A family stored before ``auth_time`` and ``amr``
  were began with a password login at ``created_at``.
- login state on the user item: failed_logins, locked_until, sessions_revoked_at,
  session_generation. Written without
  touching ``version``: they are not user-visible changes, so they publish no UserUpdated event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import raise_if_contention
from adapters.dynamodb_user_repository import cancellation_codes
from adapters.user_items import iso_timestamp, user_key
from domain.auth_models import PASSWORD_METHOD, RefreshRecord, SessionFamily
from domain.users import UserAccount

REFRESH_SK = "REFRESH"
FAMILY_SK = "FAMILY"
_LOST_RACE = {"ConditionalCheckFailed", "TransactionConflict"}


def refresh_key(token_hash: str) -> dict[str, Any]:
    return {"PK": {"S": f"REFRESH#{token_hash}"}, "SK": {"S": REFRESH_SK}}


def family_key(family_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"FAMILY#{family_id}"}, "SK": {"S": FAMILY_SK}}


def _parse(value: dict[str, str] | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value["S"])


def _epoch(value: datetime) -> dict[str, str]:
    return {"N": str(int(value.timestamp()))}


def _from_epoch(value: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(value["N"]), UTC)


def _refresh_item(record: RefreshRecord) -> dict[str, Any]:
    return {
        **refresh_key(record.token_hash),
        "entity": {"S": "refresh_token"},
        "user_id": {"S": record.user_id},
        "family_id": {"S": record.family_id},
        "expires_at": _epoch(record.expires_at),
    }


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDBSessionRepository:
    """Implements ``SessionRepository`` and ``LoginStateRepository`` (domain/ports.py)."""

    def __init__(self, table_name: str) -> None:
        self._table = table_name
        self._db = client("dynamodb")

    # ------------------------------------------------------------ refresh sessions
    def start_family(self, family: SessionFamily, first: RefreshRecord) -> None:
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **family_key(family.family_id),
                            "entity": {"S": "session_family"},
                            "user_id": {"S": family.user_id},
                            "created_at": {"S": iso_timestamp(family.created_at)},
                            "expires_at": _epoch(family.expires_at),
                            "auth_time": {"S": iso_timestamp(family.auth_time)},
                            "amr": {"L": [{"S": method} for method in family.amr]},
                        },
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _refresh_item(first),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    def _item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return found.get("Item")

    def find_token(self, token_hash: str) -> RefreshRecord | None:
        item = self._item(refresh_key(token_hash))
        if item is None:
            return None
        return RefreshRecord(
            token_hash=token_hash,
            user_id=item["user_id"]["S"],
            family_id=item["family_id"]["S"],
            expires_at=_from_epoch(item["expires_at"]),
            rotated_at=_parse(item.get("rotated_at")),
        )

    def get_family(self, family_id: str) -> SessionFamily | None:
        item = self._item(family_key(family_id))
        if item is None:
            return None
        created_at = datetime.fromisoformat(item["created_at"]["S"])
        return SessionFamily(
            family_id=family_id,
            user_id=item["user_id"]["S"],
            created_at=created_at,
            expires_at=_from_epoch(item["expires_at"]),
            auth_time=_parse(item.get("auth_time")) or created_at,
            amr=tuple(m["S"] for m in item.get("amr", {}).get("L", [])) or (PASSWORD_METHOD,),
            revoked_at=_parse(item.get("revoked_at")),
        )

    def rotate(self, old: RefreshRecord, new: RefreshRecord, now: datetime) -> bool:
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": refresh_key(old.token_hash),
                            "UpdateExpression": "SET rotated_at = :now",
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "attribute_not_exists(rotated_at)",
                            "ExpressionAttributeValues": {":now": {"S": iso_timestamp(now)}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _refresh_item(new),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        # The family lives as long as its newest token, so reuse stays detectable.
                        "Update": {
                            "TableName": self._table,
                            "Key": family_key(new.family_id),
                            "UpdateExpression": "SET expires_at = :expires",
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "attribute_not_exists(revoked_at)",
                            "ExpressionAttributeValues": {":expires": _epoch(new.expires_at)},
                        }
                    },
                ]
            )
        except self._db.exceptions.TransactionCanceledException as error:
            if set(cancellation_codes(error)) & _LOST_RACE:
                return False
            raise_if_contention(error)
            raise
        return True

    def revoke_family(self, family_id: str, now: datetime) -> None:
        self._update_if_exists(
            family_key(family_id),
            "SET revoked_at = if_not_exists(revoked_at, :now)",
            {":now": {"S": iso_timestamp(now)}},
        )

    # ------------------------------------------------------------ login state (user item)
    def record_failed_login(
        self, user_id: str, now: datetime, max_failures: int, lock_until: datetime
    ) -> bool:
        try:
            counted = self._db.update_item(
                TableName=self._table,
                Key=user_key(user_id),
                UpdateExpression="SET failed_logins = if_not_exists(failed_logins, :zero) + :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise_if_contention(error)
            raise
        if int(counted["Attributes"]["failed_logins"]["N"]) < max_failures:
            return False
        return self._update_if_exists(
            user_key(user_id),
            "SET locked_until = :until, failed_logins = :zero",
            {":until": {"S": iso_timestamp(lock_until)}, ":zero": {"N": "0"}},
        )

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime, max_failures: int
    ) -> bool:
        expression = "SET failed_logins = :zero"
        values: dict[str, Any] = {
            ":zero": {"N": "0"},
            ":verified": {"S": account.password_hash},
            ":now": {"S": iso_timestamp(now)},
            ":max": {"N": str(max_failures)},
        }
        if new_password_hash is not None:
            expression += ", password_hash = :rehashed"
            values[":rehashed"] = {"S": new_password_hash}
        # The password is still the one just verified (never undo a concurrent change), and no
        # concurrent guess locked the account or reached the limit since it was read. A lock
        # set meanwhile ends at least a lockout after ``now``, so the comparison is unambiguous.
        return self._update_if_exists(
            user_key(account.user.id),
            f"{expression} REMOVE locked_until",
            values,
            condition="password_hash = :verified"
            " AND (attribute_not_exists(locked_until) OR locked_until <= :now)"
            " AND (attribute_not_exists(failed_logins) OR failed_logins < :max)",
        )

    def revoke_all_sessions(self, user_id: str, now: datetime) -> None:
        self._update_if_exists(
            user_key(user_id),
            "SET sessions_revoked_at = :now ADD session_generation :one",
            {":now": {"S": iso_timestamp(now)}, ":one": {"N": "1"}},
        )

    def _update_if_exists(
        self,
        key: dict[str, Any],
        expression: str,
        values: dict[str, Any],
        condition: str = "attribute_exists(PK)",
    ) -> bool:
        """False when the item is gone (or the condition no longer holds): nothing to update."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise_if_contention(error)
            raise
        return True
