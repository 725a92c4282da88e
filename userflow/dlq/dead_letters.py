"""The kinds of dead letter the tools handle, and what each can say about itself.

Five kinds are re-driven: a stream batch whose retries ran out (Lambda's on-failure record,
metadata only), a poison record (the processor kept the record), an event EventBridge could not
deliver (AWS's RULE_ARN/TARGET_ARN/ERROR_CODE attributes, the event as body), an event a queue's
consumer failed on (the event alone, moved by the queue's redrive policy), a webhook delivery the
delivery function gave up (``{"delivery": ...}``: userflow/dlq/webhook_replay.py). Anything
else, or one of those kinds in a shape this tool cannot use (garbage put there by hand, a
truncated body), is ``Unrecognised``, with the reason: the tools name it and go on with the
other messages. userflow/dlq/messages.py reads a message into one of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.user_items import user_of_keys
from domain.webhook_deliveries import Delivery

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
        return f"{_event_summary(self.body)} -> {self.target_arn}: {self.error}"


@dataclass(frozen=True)
class FailedEvent:
    """An event EventBridge did deliver to a queue, whose consumer then failed on it until the
    queue's redrive policy moved it here (no TARGET_ARN: e.g. the webhook fan-out could not read
    the endpoints). It goes back to that queue (userflow/dlq/webhook_replay.py)."""

    body: str

    def describe(self) -> str:
        return (
            f"{_event_summary(self.body)}: its queue's consumer kept failing on it (moved here by "
            "the queue's redrive policy)"
        )


def _event_summary(body: str) -> str:
    try:
        event = json.loads(body)
        detail = event.get("detail", {})
        return (
            f"{event.get('detail-type', '?')} event_id {detail.get('event_id', '?')} "
            f"user {detail.get('user', {}).get('id', '?')}"
        )
    except (ValueError, AttributeError):
        return "event"


@dataclass(frozen=True)
class WebhookDelivery:
    """One event for one webhook endpoint, given up by the delivery function (attempts ran out,
    or the endpoint is disabled: ``reason``), or moved here by SQS after the function failed on
    it ``maxReceiveCount`` times (no ``reason``). Never a secret: the endpoint is named by id."""

    delivery: Delivery
    reason: str = ""

    @property
    def endpoint_id(self) -> str:
        return self.delivery.endpoint_id

    def describe(self) -> str:
        """One line for a terminal: what an endpoint answered, or a hand-made body, cannot move
        the cursor or clear the screen (non-printable characters are escaped)."""
        delivery = self.delivery
        why = self.reason or delivery.last_error or "the delivery function kept failing on it"
        line = (
            f"webhook delivery of {delivery.detail_type} event_id {delivery.message_id} to "
            f"endpoint {delivery.endpoint_id}, attempt {delivery.attempt}: {why}"
        )
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


@dataclass(frozen=True)
class Unrecognised:
    message_id: str
    why: str = "not a message this tool knows"

    def describe(self) -> str:
        return f"cannot be read: {self.why}"


DeadLetter = (
    StreamBatch | PoisonMessage | UndeliveredEvent | FailedEvent | WebhookDelivery | Unrecognised
)
KINDS: dict[type, str] = {
    StreamBatch: "stream-batch",
    PoisonMessage: "poison-record",
    UndeliveredEvent: "undelivered-event",
    FailedEvent: "failed-event",
    WebhookDelivery: "webhook-delivery",
    Unrecognised: "unreadable",
}
"""How ``--json`` output names each kind."""
