"""Passkey items on the single table (docs/architecture.md, "Table design"):

- passkey:   PK=USER#<user id>  SK=PASSKEY#<passkey id>  credential_id, public_key (COSE),
  sign_count, transports, aaguid, backup flags, name, created_at, last_used_at, blocked_at, and
  claim_pk/claim_sk: the claim below, deleted with it (and with the user:
  adapters/user_owned_items.py).
- claim:     PK=PASSKEY#<passkey id>  SK=PASSKEY  user_id: which user a credential belongs to
  (one owner per credential, written in the same transaction as the passkey).
- challenge: PK=CHALLENGE#<challenge id>  SK=CHALLENGE  challenge, purpose, user_id, expires_at
  (TTL; also checked when it is taken, as TTL deletion lags).

A passkey's id is the SHA-256 of its credential id (domain/passkeys.py), so keys stay short
whatever the authenticator's credential id. The stream processor reads only ``SK=PROFILE`` items:
neither keys nor credential ids ever reach an event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.user_items import USER_PREFIX, iso_timestamp
from domain.passkeys import Challenge, ChallengePurpose, PasskeyUse, StoredPasskey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PASSKEY_SK_PREFIX = "PASSKEY#"
CLAIM_PREFIX = "PASSKEY#"
CLAIM_SK = "PASSKEY"
CHALLENGE_SK = "CHALLENGE"


def passkey_key(user_id: str, passkey_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"{USER_PREFIX}{user_id}"}, "SK": {"S": f"{PASSKEY_SK_PREFIX}{passkey_id}"}}


def claim_key(passkey_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"{CLAIM_PREFIX}{passkey_id}"}, "SK": {"S": CLAIM_SK}}


def challenge_key(challenge_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"CHALLENGE#{challenge_id}"}, "SK": {"S": CHALLENGE_SK}}


def epoch(value: datetime) -> dict[str, str]:
    return {"N": str(int(value.timestamp()))}


def passkey_item(passkey: StoredPasskey) -> dict[str, Any]:
    claim = claim_key(passkey.id)
    item: dict[str, Any] = {
        **passkey_key(passkey.user_id, passkey.id),
        "entity": {"S": "passkey"},
        "id": {"S": passkey.id},
        "user_id": {"S": passkey.user_id},
        "credential_id": {"B": passkey.credential_id},
        "public_key": {"B": passkey.public_key},
        "sign_count": {"N": str(passkey.sign_count)},
        "transports": {"L": [{"S": transport} for transport in passkey.transports]},
        "aaguid": {"S": passkey.aaguid},
        "backup_eligible": {"BOOL": passkey.backup_eligible},
        "backed_up": {"BOOL": passkey.backed_up},
        "name": {"S": passkey.name},
        "created_at": {"S": iso_timestamp(passkey.created_at)},
        "claim_pk": claim["PK"],
        "claim_sk": claim["SK"],
    }
    for optional in ("last_used_at", "blocked_at"):
        moment = getattr(passkey, optional)
        if moment is not None:
            item[optional] = {"S": iso_timestamp(moment)}
    return item


def _instant(item: dict[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    return None if value is None else datetime.fromisoformat(value["S"])


def passkey_from_item(item: dict[str, Any]) -> StoredPasskey:
    return StoredPasskey(
        id=item["id"]["S"],
        user_id=item["user_id"]["S"],
        credential_id=bytes(item["credential_id"]["B"]),
        public_key=bytes(item["public_key"]["B"]),
        sign_count=int(item["sign_count"]["N"]),
        transports=tuple(value["S"] for value in item["transports"]["L"]),
        aaguid=item["aaguid"]["S"],
        backup_eligible=item["backup_eligible"]["BOOL"],
        backed_up=item["backed_up"]["BOOL"],
        name=item["name"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        last_used_at=_instant(item, "last_used_at"),
        blocked_at=_instant(item, "blocked_at"),
    )


def passkey_use(table: str, passkey: StoredPasskey, use: PasskeyUse) -> TransactWriteItemTypeDef:
    """The conditional update that records an assertion (alone, or in a transaction with what
    else the sign-in consumes: an ``mfa_token``). The counter only grows, or stays at 0 for an
    authenticator without one; a blocked or removed passkey is not updated."""
    counter = "sign_count < :count" if use.sign_count else "sign_count = :count"
    return {
        "Update": {
            "TableName": table,
            "Key": passkey_key(passkey.user_id, passkey.id),
            "UpdateExpression": "SET sign_count = :count, backed_up = :backed_up, "
            "last_used_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(blocked_at) "
            f"AND {counter}",
            "ExpressionAttributeValues": {
                ":count": {"N": str(use.sign_count)},
                ":backed_up": {"BOOL": use.backed_up},
                ":now": {"S": iso_timestamp(use.at)},
            },
        }
    }


def blocked_passkey(table: str, passkey: StoredPasskey, now: datetime) -> TransactWriteItemTypeDef:
    """The update that blocks a passkey for good (a copy of it exists): once, and only while it
    exists."""
    return {
        "Update": {
            "TableName": table,
            "Key": passkey_key(passkey.user_id, passkey.id),
            "UpdateExpression": "SET blocked_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(blocked_at)",
            "ExpressionAttributeValues": {":now": {"S": iso_timestamp(now)}},
        }
    }


def challenge_item(challenge: Challenge) -> dict[str, Any]:
    item: dict[str, Any] = {
        **challenge_key(challenge.challenge_id),
        "entity": {"S": "webauthn_challenge"},
        "challenge": {"B": challenge.challenge},
        "purpose": {"S": str(challenge.purpose)},
        "expires_at": epoch(challenge.expires_at),
    }
    if challenge.user_id is not None:
        item["user_id"] = {"S": challenge.user_id}
    return item


def challenge_from_item(challenge_id: str, item: dict[str, Any]) -> Challenge:
    user_id = item.get("user_id")
    return Challenge(
        challenge_id=challenge_id,
        challenge=bytes(item["challenge"]["B"]),
        purpose=ChallengePurpose(item["purpose"]["S"]),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC),
        user_id=None if user_id is None else user_id["S"],
    )
