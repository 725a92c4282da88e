"""The user item's side of a passkey change: its next version when a passkey is added or removed
(``passkey_count``), and its sign-out when a cloned passkey is blocked (SessionsRevoked), each one
action of adapters/dynamodb_passkey_repository.py's transactions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.security_stamps import Plan, actor_value, stamp_values, versioned_write
from adapters.user_items import iso_timestamp, last_change_key, user_key
from domain.actors import Actor
from domain.event_types import DetailType, stamp
from domain.security_reasons import RevocationReason, SessionScope
from domain.security_stamps import stamps_for_save
from domain.users import UserAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def signed_out(
    table: str, user_id: str, read: int, now: datetime, request_id: str | None
) -> TransactWriteItemTypeDef:
    """Every session and access token of the user ends (as logout-all does), at version
    ``read + 1``."""
    system = Actor.system()
    revoked = stamp(
        DetailType.SESSIONS_REVOKED,
        read + 1,
        now,
        system,
        scope=SessionScope.ALL,
        reason=RevocationReason.PASSKEY_CLONED,
    )
    plan = Plan(
        sets=["sessions_revoked_at = :now"],
        adds=["session_generation :one"],
        values={":now": {"S": iso_timestamp(now)}, ":one": {"N": "1"}},
        stamps=[revoked],
    )
    update: Any = versioned_write(
        table, user_id, read, plan, now=now, actor=system, request_id=request_id
    )
    return {"Update": update}


def user_at_version(
    table: str, updated: UserAccount, previous: UserAccount, actor: Actor, request_id: str | None
) -> TransactWriteItemTypeDef:
    """The user item at ``updated``'s version, count and time, if still at ``previous``'s."""
    user = updated.user
    values: dict[str, Any] = {
        ":count": {"N": str(user.passkey_count)},
        ":version": {"N": str(user.version)},
        ":updated_at": {"S": iso_timestamp(user.updated_at)},
        ":change_key": {"S": last_change_key(user)},
        ":expected": {"N": str(previous.user.version)},
    }
    expression = (
        "SET passkey_count = :count, #version = :version, updated_at = :updated_at, "
        "GSI2SK = :change_key"
    )
    stamps = stamp_values(stamps_for_save(previous, updated, actor))
    values |= {":actor": actor_value(actor)} | {f":{n}": v for n, v in stamps.items()}
    expression += ", last_actor = :actor" + "".join(f", {n} = :{n}" for n in stamps)
    if request_id is None:
        expression += " REMOVE last_request_id"
    else:
        expression += ", last_request_id = :request"
        values[":request"] = {"S": request_id}
    return {
        "Update": {
            "TableName": table,
            "Key": user_key(user.id),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(PK) AND #version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": values,
        }
    }
