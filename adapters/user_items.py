"""The user item's layout on the single table: its keys, and an account as an item and back.

Items (see README "Table design"):
- user:  PK=USER#<id>     SK=PROFILE  GSI1PK=USERS GSI1SK=<created_at>#<id>
- email: PK=EMAIL#<email> SK=EMAIL    user_id  (claims an address; written in the same transaction)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from domain.mfa_state import MfaSecrets
from domain.recovery_tokens import IssuedToken, TokenPurpose
from domain.users import PROFILE_FIELDS, TOKEN_FIELDS, User, UserAccount

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


def user_of_keys(keys: Any) -> str:
    """The user id a record's keys name, for lines people read."""
    pk = keys.get("PK", {}).get("S", "?") if isinstance(keys, dict) else "?"
    return str(pk).removeprefix(USER_PREFIX)


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
        "mfa_enabled": user.mfa_enabled,
        "name": user.name,
        "roles": [str(role) for role in user.roles],
        "status": str(user.status),
        "version": user.version,
        "passkey_count": user.passkey_count,
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
    values |= mfa_values(account.mfa)
    return {name: _serializer.serialize(v) for name, v in values.items() if v is not None}


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


def _stored_mfa(plain: dict[str, Any]) -> MfaSecrets:
    return MfaSecrets.model_validate(
        {
            **{name: plain[name] for name in MFA_ATTRIBUTES if name in plain},
            "recovery_codes": frozenset(plain.get("recovery_codes", ())),
        }
    )


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
        revoked_sessions={
            family: datetime.fromisoformat(until)
            for family, until in plain.get("revoked_sessions", {}).items()
        },
        verify_token=_stored_token(plain, TokenPurpose.VERIFY_EMAIL),
        reset_token=_stored_token(plain, TokenPurpose.RESET_PASSWORD),
        mfa=_stored_mfa(plain),
    )
