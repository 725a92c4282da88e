"""Login bookkeeping on the user item (``LoginStateRepository``, domain/ports.py): the account's
run of failed logins and its wait (adapters/dynamodb_throttle.py), re-hashes, and revocations
(``sessions_revoked_at`` with ``session_generation``; ``revoked_sessions``, a map of family id to
the time its access tokens have all expired). Counting failures, ending a run and re-hashing are
written without touching ``version``: they are no user's change and publish nothing. A lock, an
unlock and a revocation are security changes: each takes the next version and stamps its event
(adapters/security_stamps.py), with the actor who made it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters import dynamodb_throttle
from adapters.aws_clients import client
from adapters.security_stamps import ActorOf, Plan, versioned_update
from adapters.user_items import LOCKOUT_ATTRIBUTES, iso_timestamp, user_key
from domain.actors import Actor
from domain.clock import Clock, utc_now
from domain.event_types import DetailType, stamp
from domain.security_reasons import RevocationReason, SessionScope
from domain.users import UserAccount

REVOKED_SESSIONS = "revoked_sessions"
LOCKED = DetailType.ACCOUNT_LOCKED


def _locked_until(item: Mapping[str, Any]) -> datetime | None:
    raw = item.get("locked_until", {}).get("S")
    return None if raw is None else datetime.fromisoformat(raw.replace("Z", "+00:00"))


class DynamoDBLoginState:
    def __init__(
        self,
        table_name: str,
        db: Any | None = None,
        actor: ActorOf = Actor.user,
        request_id: Callable[[], str | None] = lambda: None,
        clock: Clock = utc_now,
    ) -> None:
        """``actor``: who makes a change of a user's sessions or lock (the API's caller, an
        operator); the throttle's locks are the system's."""
        self._table = table_name
        self._db = db or client("dynamodb")
        self._actor = actor
        self._request_id = request_id
        self._clock = clock

    def record_failed_login(self, user_id: str, now: datetime) -> int | None:
        return dynamodb_throttle.count_failure(self._db, self._table, user_key(user_id))

    def throttle(self, user_id: str, until: datetime, now: datetime | None = None) -> None:
        """A wait that starts (none running at ``now``) locks the account: AccountLocked, by the
        system; one that lengthens a running wait is bookkeeping."""
        now = now or self._clock()

        def lock(item: Mapping[str, Any], version: int) -> Plan | None:
            running = _locked_until(item)
            if running is not None and (running > now or running >= until):
                return None  # a running (or later) wait is only ever lengthened
            return Plan(
                sets=["locked_until = :until"],
                values={":until": {"S": iso_timestamp(until)}},
                stamps=[
                    stamp(
                        DetailType.ACCOUNT_LOCKED, version, now, Actor.system(), locked_until=until
                    )
                ],
            )

        if not self._versioned(user_id, lock, Actor.system(), now):
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

    def revoke_all_sessions(
        self, user_id: str, now: datetime, reason: RevocationReason = RevocationReason.LOGOUT
    ) -> None:
        actor = self._actor(user_id)

        def revoke(_: Mapping[str, Any], version: int) -> Plan:
            return Plan(
                sets=["sessions_revoked_at = :now"],
                adds=["session_generation :one"],
                values={":now": {"S": iso_timestamp(now)}, ":one": {"N": "1"}},
                stamps=[self._revoked(version, now, actor, SessionScope.ALL, reason)],
            )

        self._versioned(user_id, revoke, actor, now)

    def revoke_session(
        self,
        user_id: str,
        family_id: str,
        until: datetime,
        forget: Sequence[str] = (),
        reason: RevocationReason = RevocationReason.LOGOUT,
    ) -> None:
        """One entry of the map, set in place (the rest of it is never rewritten); the map
        itself is created by the first revocation. A detected reuse is the system's doing."""
        gone = [old for old in forget if old != family_id]
        now = self._clock()
        actor = (
            Actor.system() if reason is RevocationReason.REUSE_DETECTED else self._actor(user_id)
        )

        def revoke(item: Mapping[str, Any], version: int) -> Plan:
            at = {"S": iso_timestamp(until)}
            revoked = self._revoked(version, now, actor, SessionScope.FAMILY, reason)
            if REVOKED_SESSIONS not in item:
                return Plan(
                    sets=["#revoked = :first"],
                    values={":first": {"M": {family_id: at}}},
                    names={"#revoked": REVOKED_SESSIONS},
                    stamps=[revoked],
                )
            names = {"#revoked": REVOKED_SESSIONS, "#family": family_id}
            names |= {f"#gone{index}": old for index, old in enumerate(gone)}
            return Plan(
                sets=["#revoked.#family = :until"],
                removes=[f"#revoked.#gone{i}" for i in range(len(gone))],
                values={":until": at},
                names=names,
                stamps=[revoked],
            )

        self._versioned(user_id, revoke, actor, now)

    def clear_throttle(self, user_id: str) -> bool:
        """An unlock (AccountUnlocked) when a wait was running; else only the run is forgotten."""
        now = self._clock()
        actor = self._actor(user_id)

        def unlock(item: Mapping[str, Any], version: int) -> Plan | None:
            running = _locked_until(item)
            if running is None or running <= now:
                return None
            return Plan(
                removes=list(LOCKOUT_ATTRIBUTES),
                stamps=[stamp(DetailType.ACCOUNT_UNLOCKED, version, now, actor)],
            )

        return self._versioned(user_id, unlock, actor, now) or self._update(
            user_id, f"REMOVE {', '.join(LOCKOUT_ATTRIBUTES)}"
        )

    @staticmethod
    def _revoked(
        version: int, now: datetime, actor: Actor, scope: SessionScope, reason: RevocationReason
    ) -> Any:
        return stamp(DetailType.SESSIONS_REVOKED, version, now, actor, scope=scope, reason=reason)

    def _versioned(
        self,
        user_id: str,
        plan: Callable[[Mapping[str, Any], int], Plan | None],
        actor: Actor,
        now: datetime,
    ) -> bool:
        return versioned_update(
            self._db,
            self._table,
            user_id,
            plan,
            now=now,
            actor=actor,
            request_id=self._request_id,
        )

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
