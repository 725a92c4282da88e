"""The user item's layout on the single table: its keys, and an account as an item and back.

Items (docs/architecture.md, "Table design"):
- user:  PK=USER#<id>     SK=PROFILE  GSI1PK=USERS#<status>#<v|u>#<shard> GSI1SK=<created_at>#<id>
                                      GSI2PK=UPDATED#<shard>               GSI2SK=<updated_at>#<id>
- email: PK=EMAIL#<email> SK=EMAIL    user_id  (claims an address; written in the same transaction)
                                      GSI2PK=EMAILS#<shard>                GSI2SK=<email>
The shard is a hash of the user id modulo the stack's shard count (template parameter
UserIndexShards): writes spread over that many index partitions (adapters/user_search.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from adapters.dynamodb_values import attribute_value, plain
from domain.metadata import METADATA_FIELDS, compact_json
from domain.mfa_state import MfaSecrets
from domain.recovery_tokens import IssuedToken, TokenPurpose
from domain.user_search import Order, moment_key, sort_key
from domain.users import PROFILE_FIELDS, TOKEN_FIELDS, Origin, User, UserAccount

USER_PREFIX = "USER#"
USER_SK = "PROFILE"
EMAIL_SK = "EMAIL"
LIST_INDEX = "GSI1"
SEARCH_INDEX = "GSI2"
LEGACY_LIST_PARTITION = "USERS"
"""GSI1PK of items written before the index was sharded, until the backfill moves them."""
DEFAULT_SHARDS = 4
INDEX_ATTRIBUTES = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")


def shard_of(user_id: str, shards: int) -> int:
    """A stable, evenly spread shard for a user id (user ids are random, but need not be)."""
    return int(hashlib.sha256(user_id.encode()).hexdigest()[:8], 16) % shards


def created_partition(status: str, verified: bool, shard: int) -> str:
    return f"USERS#{status}#{'v' if verified else 'u'}#{shard}"


def updated_partition(shard: int) -> str:
    return f"UPDATED#{shard}"


def email_partition(shard: int) -> str:
    return f"EMAILS#{shard}"


def user_index_values(user: User, shards: int) -> dict[str, str]:
    """The index keys of a user item: creation order by status and verification, and last
    change, in the user's shard."""
    shard = shard_of(user.id, shards)
    return {
        "GSI1PK": created_partition(str(user.status), user.email_verified, shard),
        "GSI1SK": sort_key(user, Order.CREATED),
        "GSI2PK": updated_partition(shard),
        "GSI2SK": last_change_key(user),
    }


def last_change_key(user: User) -> str:
    """GSI2SK of a user item: every write that moves ``updated_at`` sets it too, or the
    ``updated_since`` search would miss the change."""
    return sort_key(user, Order.UPDATED)


def change_key_at(user_id: str, moment: datetime) -> str:
    """``last_change_key`` for a write that changes the user at ``moment`` without reading it."""
    return moment_key(user_id, moment)


def claim_index_values(email: str, user_id: str, shards: int) -> dict[str, str]:
    """The index keys of an email claim: addresses in order, in the owner's shard."""
    return {"GSI2PK": email_partition(shard_of(user_id, shards)), "GSI2SK": email}


def user_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"{USER_PREFIX}{user_id}"}, "SK": {"S": USER_SK}}


def is_user_key(keys: dict[str, Any]) -> bool:
    """Whether plain key values (``{"PK": ..., "SK": ...}``) are a user item's."""
    pk, sk = keys.get("PK"), keys.get("SK")
    return isinstance(pk, str) and pk.startswith(USER_PREFIX) and sk == USER_SK


def user_of_keys(keys: Any) -> str:
    """The user id a record's keys name, for lines people read."""
    pk = keys.get("PK", {}).get("S", "?") if isinstance(keys, dict) else "?"
    return str(pk).removeprefix(USER_PREFIX)


def email_key(email: str) -> dict[str, Any]:
    return {"PK": {"S": f"EMAIL#{email}"}, "SK": {"S": EMAIL_SK}}


def iso_timestamp(value: datetime) -> str:
    """How the table stores instants: ISO 8601 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def account_attributes(
    account: UserAccount, request_id: str | None = None, shards: int = DEFAULT_SHARDS
) -> dict[str, Any]:
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
        "mfa_enabled": user.mfa_enabled,
        "name": user.name,
        "roles": [str(role) for role in user.roles],
        "status": str(user.status),
        "version": user.version,
        "passkey_count": user.passkey_count,
        "created_at": iso_timestamp(user.created_at),
        "updated_at": iso_timestamp(user.updated_at),
        "password_hash": account.password_hash,
        # Only what is not a sign-up is marked: a registration's item stays as it always was.
        "origin": None if account.origin is Origin.REGISTRATION else str(account.origin),
        **user_index_values(user, shards),
    }
    for field in PROFILE_FIELDS:
        values[field] = getattr(user, field)
    for field in METADATA_FIELDS:
        # JSON text: exact (no float-to-Decimal rounding), measured as the limits say, and never
        # a DynamoDB map key it cannot hold. An empty map is no attribute at all.
        values[field] = compact_json(getattr(user, field)) if getattr(user, field) else None
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
    values |= mfa_values(account.mfa)
    return {name: attribute_value(v) for name, v in values.items() if v is not None}


LOCKOUT_ATTRIBUTES = ["failed_logins", "locked_until"]
"""Login bookkeeping: written by logins themselves (adapters/dynamodb_session_repository.py)."""
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


MFA_ATTRIBUTES = (
    "totp_secret",
    "totp_last_step",
    "totp_pending",
    "totp_pending_expires_at",
    "recovery_codes",
)
"""The second factor's state (domain/mfa_state.py): sealed secret, last step, code hashes."""


def mfa_values(mfa: MfaSecrets) -> dict[str, Any]:
    """None where unset (left out); the recovery codes' hashes as a string set (an empty set
    cannot be stored, and none is none)."""
    expires = mfa.totp_pending_expires_at
    return {
        "totp_secret": mfa.totp_secret,
        "totp_last_step": mfa.totp_last_step or None,
        "totp_pending": mfa.totp_pending,
        "totp_pending_expires_at": iso_timestamp(expires) if expires else None,
        "recovery_codes": set(mfa.recovery_codes) or None,
    }


def _stored_mfa(values: dict[str, Any]) -> MfaSecrets:
    return MfaSecrets.model_validate(
        {
            **{name: values[name] for name in MFA_ATTRIBUTES if name in values},
            "recovery_codes": frozenset(values.get("recovery_codes", ())),
        }
    )


def _stored_token(values: dict[str, Any], purpose: TokenPurpose) -> IssuedToken | None:
    field = TOKEN_FIELDS[purpose]
    if f"{field}_hash" not in values:
        return None
    return IssuedToken(
        token_hash=values[f"{field}_hash"],
        expires_at=datetime.fromisoformat(values[f"{field}_expires_at"]),
    )


def user_from_values(values: dict[str, Any]) -> User:
    """The public user in an item's plain values (stored items and stream images alike)."""
    fields = {f: values[f] for f in User.model_fields if f in values}
    for name in METADATA_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = json.loads(fields[name])
    return User.model_validate(fields)


def user_from_item(item: dict[str, Any]) -> User:
    return user_from_values(plain(item))


def account_from_item(item: dict[str, Any]) -> UserAccount:
    values = plain(item)
    return UserAccount(
        user=user_from_values(values),
        password_hash=values["password_hash"],
        locked_until=values.get("locked_until"),
        failed_logins=int(values.get("failed_logins", 0)),
        sessions_revoked_at=values.get("sessions_revoked_at"),
        session_generation=int(values.get("session_generation", 0)),
        origin=Origin(values.get("origin", Origin.REGISTRATION)),
        revoked_sessions={
            family: datetime.fromisoformat(until)
            for family, until in values.get("revoked_sessions", {}).items()
        },
        verify_token=_stored_token(values, TokenPurpose.VERIFY_EMAIL),
        reset_token=_stored_token(values, TokenPurpose.RESET_PASSWORD),
        mfa=_stored_mfa(values),
    )
