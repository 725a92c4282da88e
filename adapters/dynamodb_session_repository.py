"""Refresh sessions on the single table (login bookkeeping: adapters/dynamodb_login_state.py).

Items (docs/architecture.md, "Table design"):
- refresh token:  PK=REFRESH#<sha256 of the token>  SK=REFRESH  user_id, family_id, expires_at
  (TTL, epoch seconds), rotated_at once it has been exchanged. The token itself is never stored.
- session family: PK=FAMILY#<id>  SK=FAMILY  user_id, created_at, expires_at (TTL: the session's
  absolute end, fixed at login), auth_time, amr (the login's methods, a list), revoked_at. A family
  stored before ``auth_time`` and ``amr`` were began with a password login at ``created_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import cancellation_codes, raise_if_contention
from adapters.dynamodb_throttle import update_if_exists
from adapters.user_items import iso_timestamp
from domain.auth_models import PASSWORD_METHOD, RefreshRecord, SessionFamily

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


class DynamoDBSessionRepository:
    """Implements ``SessionRepository`` (domain/ports.py)."""

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
                        # The family is not revoked meanwhile; its end stays where login set it.
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": family_key(new.family_id),
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "attribute_not_exists(revoked_at)",
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
        update_if_exists(
            self._db,
            self._table,
            family_key(family_id),
            "SET revoked_at = if_not_exists(revoked_at, :now)",
            {":now": {"S": iso_timestamp(now)}},
        )
