"""The user item's side of a passkey change: its next version when a passkey is added or removed
(``passkey_count``), and its sign-out when a cloned passkey is blocked (SessionsRevoked), each one
action of adapters/dynamodb_passkey_repository.py's transactions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.security_stamps import Plan, versioned_write
from adapters.user_items import iso_timestamp
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
    """The user item at ``updated``'s version, count and time, if still at ``previous``'s: the
    user's next version (``UserAccount.changed``), written as every versioned change is."""
    user = updated.user
    if user.version != previous.user.version + 1:
        raise ValueError(f"a passkey change is the user's next version, not {user.version}")
    plan = Plan(
        sets=["passkey_count = :count"],
        values={":count": {"N": str(user.passkey_count)}},
        stamps=stamps_for_save(previous, updated, actor),
    )
    update: Any = versioned_write(
        table,
        user.id,
        previous.user.version,
        plan,
        now=user.updated_at,
        actor=actor,
        request_id=request_id,
    )
    return {"Update": update}
