"""The write of a changed user (``UserRepository.save``): an ``Update`` of only what the use case
changed, so that login bookkeeping, rehashes and session revocations made concurrently (without a
version bump) are never overwritten, conditional on the version the change was made from (and on
the one-time token it used still being the stored one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.security_stamps import LAST_ACTOR, actor_value, stamp_values
from adapters.user_items import (
    INDEX_ATTRIBUTES,
    LOCKOUT_ATTRIBUTES,
    TOKEN_ATTRIBUTES,
    account_attributes,
    user_key,
)
from domain.actors import Actor
from domain.recovery_tokens import TokenPurpose
from domain.security_stamps import stamps_for_save
from domain.users import TOKEN_FIELDS, UserAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def user_update(
    table: str,
    updated: UserAccount,
    previous: UserAccount,
    actor: Actor,
    *,
    request_id: str | None,
    shards: int,
    token_used: TokenPurpose | None = None,
) -> TransactWriteItemTypeDef:
    """``previous`` → ``updated``, by ``actor``, in the request ``request_id``."""
    before = account_attributes(previous, shards=shards)
    after = account_attributes(updated, request_id, shards)
    # Index keys always: an item stored before the indexes were sharded moves with any change.
    attributes = {k: v for k, v in after.items() if before.get(k) != v or k in INDEX_ATTRIBUTES}
    reset = token_used is TokenPurpose.RESET_PASSWORD
    attributes |= stamp_values(stamps_for_save(previous, updated, actor, reset=reset))
    attributes[LAST_ACTOR] = actor_value(actor)
    removed = [name for name in before if name not in after]
    if "last_request_id" not in after:  # a change without a request id: forget the old one
        removed.append("last_request_id")
    # Removed even if written after ``previous`` was read: a link issued concurrently dies
    # with the password or the address it was mailed to, and a reset clears a lockout that
    # guesses set meanwhile.
    cleared = []
    if updated.password_hash != previous.password_hash or updated.user.email != previous.user.email:
        cleared += TOKEN_ATTRIBUTES
    if token_used is TokenPurpose.RESET_PASSWORD:
        cleared += LOCKOUT_ATTRIBUTES
    removed += [n for n in cleared if n not in after and n not in removed]
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
    return {
        "Update": {
            "TableName": table,
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
