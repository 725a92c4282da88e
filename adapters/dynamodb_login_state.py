"""Login bookkeeping on the user item (``LoginStateRepository``, domain/ports.py): the account's
run of failed logins and its wait (adapters/dynamodb_throttle.py), re-hashes, and revocations
(``sessions_revoked_at`` with ``session_generation``; ``revoked_sessions``, a map of family id to
the time its access tokens have all expired). Written without touching ``version``: they are not
user-visible changes, so they publish no UserUpdated event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters import dynamodb_throttle
from adapters.aws_clients import client
from adapters.user_items import LOCKOUT_ATTRIBUTES, iso_timestamp, user_key
from domain.users import UserAccount

REVOKED_SESSIONS = "revoked_sessions"


class DynamoDBLoginState:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def record_failed_login(self, user_id: str, now: datetime) -> int | None:
        return dynamodb_throttle.count_failure(self._db, self._table, user_key(user_id))

    def throttle(self, user_id: str, until: datetime) -> None:
        dynamodb_throttle.throttle(self._db, self._table, user_key(user_id), until)

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime
    ) -> bool:
        expression = "SET failed_logins = :zero"
        condition, values = dynamodb_throttle.unchanged_since_read(account.failed_logins)
        values |= {
            ":zero": {"N": "0"},
            ":verified": {"S": account.password_hash},
            ":now": {"S": iso_timestamp(now)},
        }
        if new_password_hash is not None:
            expression += ", password_hash = :rehashed"
            values[":rehashed"] = {"S": new_password_hash}
        # The password is still the one just verified (never undo a concurrent change), and no
        # concurrent guess was counted or throttled the account since it was read.
        return self._update(
            account.user.id,
            f"{expression} REMOVE locked_until",
            values,
            condition=f"password_hash = :verified AND {condition}",
        )

    def store_rehash(self, account: UserAccount, new_password_hash: str) -> bool:
        return self._update(
            account.user.id,
            "SET password_hash = :rehashed",
            {":rehashed": {"S": new_password_hash}, ":verified": {"S": account.password_hash}},
            condition="password_hash = :verified",
        )

    def revoke_all_sessions(self, user_id: str, now: datetime) -> None:
        self._update(
            user_id,
            "SET sessions_revoked_at = :now ADD session_generation :one",
            {":now": {"S": iso_timestamp(now)}, ":one": {"N": "1"}},
        )

    def revoke_session(
        self, user_id: str, family_id: str, until: datetime, forget: Sequence[str] = ()
    ) -> None:
        """One entry of the map, set in place (the rest of it is never rewritten, so concurrent
        revocations all stay); the map itself is created by the first revocation."""
        gone = [old for old in forget if old != family_id]
        names = {"#revoked": REVOKED_SESSIONS, "#family": family_id}
        names |= {f"#gone{index}": old for index, old in enumerate(gone)}
        expression = "SET #revoked.#family = :until"
        if gone:
            expression += " REMOVE " + ", ".join(f"#revoked.#gone{i}" for i in range(len(gone)))
        at = {":until": {"S": iso_timestamp(until)}}
        for _ in range(2):  # a concurrent first revocation may create the map in between
            if self._update(
                user_id,
                expression,
                at,
                condition="attribute_exists(PK) AND attribute_exists(#revoked)",
                names=names,
            ) or self._update(
                user_id,
                "SET #revoked = :first",
                {":first": {"M": {family_id: at[":until"]}}},
                condition="attribute_exists(PK) AND attribute_not_exists(#revoked)",
                names={"#revoked": REVOKED_SESSIONS},
            ):
                return

    def clear_throttle(self, user_id: str) -> bool:
        return self._update(user_id, f"REMOVE {', '.join(LOCKOUT_ATTRIBUTES)}")

    def _update(
        self,
        user_id: str,
        expression: str,
        values: dict[str, Any] | None = None,
        condition: str = "attribute_exists(PK)",
        names: dict[str, str] | None = None,
    ) -> bool:
        if condition != "attribute_exists(PK)" and "attribute_exists(PK)" not in condition:
            condition = f"attribute_exists(PK) AND {condition}"
        return dynamodb_throttle.update_if_exists(
            self._db, self._table, user_key(user_id), expression, values, condition, names
        )
