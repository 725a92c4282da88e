"""What a dead-letter message is, read once from its body and attributes.

Three kinds are re-driven: a stream batch whose retries ran out (Lambda's on-failure record,
metadata only), a poison record (the processor kept the record), an event EventBridge could not
deliver (AWS's RULE_ARN/TARGET_ARN/ERROR_CODE attributes, the event as body).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.sqs_poison_queue import POISON_KIND
from adapters.user_items import user_of_keys

# Added by a replay that re-drove part of a stream batch: what is left of it, by sequence number
# and by the users those records are about (for the table, should the stream lose the records).
PENDING_KEY = "userflowPendingSequenceNumbers"
PENDING_USERS_KEY = "userflowPendingUsers"


@dataclass(frozen=True)
class StreamBatch:
    body: dict[str, Any]

    @property
    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self.body["DDBStreamBatchInfo"]
        return info

    @property
    def pending(self) -> frozenset[str] | None:
        """Sequence numbers still to re-drive; None: the whole range."""
        pending = self.body.get(PENDING_KEY)
        return frozenset(str(p) for p in pending) if isinstance(pending, list) else None

    @property
    def pending_users(self) -> frozenset[str] | None:
        """Ids of the users whose records are left; None: every user of the window."""
        users = self.body.get(PENDING_USERS_KEY)
        return frozenset(str(u) for u in users) if isinstance(users, list) else None

    def narrowed(self, pending: list[str], users: list[str] | None = None) -> str:
        """The same message with only ``pending`` left (records about ``users``), as a body."""
        ordered = sorted(pending, key=int)
        info = {
            **self.info,
            "startSequenceNumber": ordered[0],
            "endSequenceNumber": ordered[-1],
            "batchSize": len(ordered),
        }
        narrowed = StreamBatch({**self.body, "DDBStreamBatchInfo": info, PENDING_KEY: ordered})
        return json.dumps(narrowed.body) if users is None else narrowed.for_users(users)

    def for_users(self, users: list[str]) -> str:
        """The same message with only the records of ``users`` left (the table fallback's
        narrowing: the stream's sequence numbers no longer apply)."""
        return json.dumps({**self.body, PENDING_USERS_KEY: sorted(set(users))})

    def describe(self) -> str:
        info = self.info
        condition = self.body.get("requestContext", {}).get("condition", "?")
        left = f", {len(self.pending)} left" if self.pending is not None else ""
        return (
            f"stream batch of {info.get('batchSize', '?')} record(s){left}, shard "
            f"{info.get('shardId', '?')}, sequence {info.get('startSequenceNumber', '?')}.."
            f"{info.get('endSequenceNumber', '?')}, {condition}, "
            f"at {self.body.get('timestamp', '?')}"
        )


@dataclass(frozen=True)
class PoisonMessage:
    record: dict[str, Any]
    reason: str

    @property
    def keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = self.record.get("dynamodb", {}).get("Keys", {})
        return keys

    def describe(self) -> str:
        sequence = self.record.get("dynamodb", {}).get("SequenceNumber", "?")
        return (
            f"poison {self.record.get('eventName', '?')} of user {user_of_keys(self.keys)} "
            f"(sequence {sequence}): {self.reason}"
        )


@dataclass(frozen=True)
class UndeliveredEvent:
    body: str
    target_arn: str
    error: str

    def describe(self) -> str:
        try:
            event = json.loads(self.body)
            detail = event.get("detail", {})
            what = (
                f"{event.get('detail-type', '?')} event_id {detail.get('event_id', '?')} "
                f"user {detail.get('user', {}).get('id', '?')}"
            )
        except (ValueError, AttributeError):
            what = "event"
        return f"{what} -> {self.target_arn}: {self.error}"


@dataclass(frozen=True)
class Unrecognised:
    message_id: str

    def describe(self) -> str:
        return f"unrecognised message {self.message_id}"


DeadLetter = StreamBatch | PoisonMessage | UndeliveredEvent | Unrecognised


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message.get("MessageAttributes", {}).get(name, {}).get("StringValue", ""))


def read_message(message: dict[str, Any]) -> DeadLetter:
    try:
        body = json.loads(message["Body"])
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("DDBStreamBatchInfo"), dict):
        return StreamBatch(body)
    if isinstance(body, dict) and body.get("kind") == POISON_KIND:
        return PoisonMessage(body.get("record") or {}, str(body.get("reason", "")))
    if _attribute(message, "TARGET_ARN"):
        error = f"{_attribute(message, 'ERROR_CODE')} {_attribute(message, 'ERROR_MESSAGE')}"
        return UndeliveredEvent(message["Body"], _attribute(message, "TARGET_ARN"), error.strip())
    return Unrecognised(str(message.get("MessageId", "?")))
