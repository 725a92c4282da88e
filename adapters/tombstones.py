"""A tombstone per deleted user (docs/events.md, "Catching up"): what ``UserDeleted``
carries (the last public fields, at the deletion's version and time) and who deleted the user,
kept ``retention`` (a template parameter, 35 days by default) after the item is gone, so that a
replay from the table can publish the deletion again under its id. Nothing else: no hash, no
login state, no stamp.

Item: PK=USER#<id>, SK=TOMBSTONE, written in the deletion's own transaction. The stream
processor's filter (SK=PROFILE) never delivers it: the deletion is published once, by the
user item's REMOVE.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from adapters.dynamodb_values import attribute_value
from adapters.security_stamps import LAST_ACTOR, actor_value
from adapters.user_items import USER_SK, iso_timestamp, user_key
from domain.actors import Actor
from domain.users import User

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

TOMBSTONE_SK = "TOMBSTONE"
DEFAULT_RETENTION = timedelta(days=35)


def tombstone_key(user_id: str) -> dict[str, Any]:
    return {**user_key(user_id), "SK": {"S": TOMBSTONE_SK}}


def tombstone_put(
    table: str, deleted: User, actor: Actor, retention: timedelta
) -> TransactWriteItemTypeDef:
    """``deleted``: the user at the deletion's version and time (what its UserDeleted says)."""
    public = deleted.model_dump(mode="json")
    item = {name: attribute_value(value) for name, value in public.items()}
    item["updated_at"] = {"S": iso_timestamp(deleted.updated_at)}
    item["created_at"] = {"S": iso_timestamp(deleted.created_at)}
    return {
        "Put": {
            "TableName": table,
            "Item": {
                **tombstone_key(deleted.id),
                **item,
                "entity": {"S": "tombstone"},
                LAST_ACTOR: actor_value(actor),
                "expires_at": {"N": str(int((deleted.updated_at + retention).timestamp()))},
            },
        }
    }


def is_tombstone(item: dict[str, Any]) -> bool:
    return bool(item.get("SK", {}).get("S") == TOMBSTONE_SK)


def deletion_image(tombstone: dict[str, Any]) -> dict[str, Any]:
    """The user item's last image as its REMOVE carried it, rebuilt from the tombstone."""
    kept = {k: v for k, v in tombstone.items() if k not in ("entity", "expires_at")}
    return {**kept, "SK": {"S": USER_SK}}
