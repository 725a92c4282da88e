"""MfaChallengeStore (domain/mfa_login.py) on the single table.

Item: PK=MFA#<sha256 of the mfa_token>  SK=MFA  user_id, session_generation, failures,
expires_at (TTL, epoch seconds). The token itself is never stored.

Completing a challenge is one transaction: the challenge is deleted and the factor's use is
written under a condition (a TOTP step newer than the last one used, a recovery code still
unused, a passkey's counter still below the new one), with the user's notice for a recovery code
queued alongside. Two requests
carrying the same code, or the same ``mfa_token``, cannot both get through it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from adapters.aws_clients import client
from adapters.dynamodb_conflicts import cancellation_codes, raise_if_contention
from adapters.mail_outbox import outbox_put
from adapters.security_stamps import actor_value, stamp_values
from adapters.user_items import iso_timestamp, user_key
from domain.actors import Actor
from domain.event_types import DetailType, stamp
from domain.mfa_uses import (
    FactorUse,
    MfaChallenge,
    PasskeyUsed,
    RecoveryCodeUsed,
    TotpStepUsed,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MFA_SK = "MFA"
_LOST_RACE = {"ConditionalCheckFailed", "TransactionConflict"}


def challenge_key(token_hash: str) -> dict[str, Any]:
    return {"PK": {"S": f"MFA#{token_hash}"}, "SK": {"S": MFA_SK}}


class DynamoDBMfaChallengeStore:
    def __init__(self, table_name: str) -> None:
        self._table = table_name
        self._db = client("dynamodb")

    def create(self, challenge: MfaChallenge) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                **challenge_key(challenge.token_hash),
                "entity": {"S": "mfa_challenge"},
                "user_id": {"S": challenge.user_id},
                "session_generation": {"N": str(challenge.session_generation)},
                "failures": {"N": "0"},
                "expires_at": {"N": str(int(challenge.expires_at.timestamp()))},
            },
            ConditionExpression="attribute_not_exists(PK)",
        )

    def find(self, token_hash: str) -> MfaChallenge | None:
        found = self._db.get_item(
            TableName=self._table, Key=challenge_key(token_hash), ConsistentRead=True
        )
        item = found.get("Item")
        if item is None:
            return None
        return MfaChallenge(
            token_hash=token_hash,
            user_id=item["user_id"]["S"],
            session_generation=int(item["session_generation"]["N"]),
            expires_at=datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC),
            failures=int(item["failures"]["N"]),
        )

    def record_failure(self, challenge: MfaChallenge, max_failures: int) -> None:
        key = challenge_key(challenge.token_hash)
        try:
            counted = self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD failures :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return  # used or deleted meanwhile: nothing left to count on
            raise_if_contention(error)
            raise
        if int(counted["Attributes"]["failures"]["N"]) >= max_failures:
            self._db.delete_item(TableName=self._table, Key=key)

    def complete(self, challenge: MfaChallenge, use: FactorUse) -> bool:
        consume: TransactWriteItemTypeDef = {
            "Delete": {
                "TableName": self._table,
                "Key": challenge_key(challenge.token_hash),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[consume, *self._use(use)])
        except self._db.exceptions.TransactionCanceledException as error:
            if set(cancellation_codes(error)) & _LOST_RACE:
                return False
            raise_if_contention(error)
            raise
        return True

    def _use(self, use: FactorUse) -> list[TransactWriteItemTypeDef]:
        if isinstance(use, TotpStepUsed):
            return [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": user_key(use.user_id),
                        "UpdateExpression": "SET totp_last_step = :step",
                        # The replay guard: a step is accepted once, even by parallel requests.
                        "ConditionExpression": "totp_secret = :sealed AND "
                        "(attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
                        "ExpressionAttributeValues": {
                            ":step": {"N": str(use.step)},
                            ":sealed": {"S": use.sealed_secret},
                        },
                    }
                }
            ]
        if isinstance(use, RecoveryCodeUsed):
            return [self._strike_code(use), outbox_put(self._table, use.notice)]
        if isinstance(use, PasskeyUsed):
            # Loaded here: logins build this store, and only a passkey's use needs the layout.
            from adapters.passkey_items import passkey_use

            # The counter only grows, and not for a passkey blocked or removed meanwhile.
            return [passkey_use(self._table, use.passkey, use.use)]
        raise TypeError(f"no write for {type(use).__name__}")

    def _strike_code(self, use: RecoveryCodeUsed) -> TransactWriteItemTypeDef:
        """The code goes, at the next version with its stamp (the user used it), if the item is
        still at the version read; a concurrent change makes the use a lost race."""
        values: dict[str, Any] = {":used": {"SS": [use.code_hash]}, ":code": {"S": use.code_hash}}
        expression, condition = "DELETE recovery_codes :used", "contains(recovery_codes, :code)"
        names: dict[str, str] = {}
        if use.version:
            now = datetime.now(UTC)
            actor = Actor.user(use.user_id)
            used = stamp(
                DetailType.RECOVERY_CODE_USED, use.version + 1, now, actor, remaining=use.remaining
            )
            stamps = stamp_values([used])
            expression += " SET #version = :next, updated_at = :now, last_actor = :actor, " + (
                ", ".join(f"{name} = :{name}" for name in stamps)
            )
            expression += " REMOVE last_request_id"
            condition += " AND #version = :read"
            names["#version"] = "version"
            values |= {
                ":next": {"N": str(use.version + 1)},
                ":read": {"N": str(use.version)},
                ":now": {"S": iso_timestamp(now)},
                ":actor": actor_value(actor),
            } | {f":{name}": value for name, value in stamps.items()}
        update: Any = {
            "TableName": self._table,
            "Key": user_key(use.user_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}
