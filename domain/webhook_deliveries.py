"""What becomes of a webhook delivery (docs/events/webhooks.md): an event fans out into one delivery
per endpoint that wants it; each delivery is attempted, retried on the policy's schedule, and
dead-lettered after the last attempt or once its endpoint is disabled. Ports for the queue, the
endpoints and the secrets; the POST itself is the adapter's (adapters/webhook_delivery.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.clock import Clock
from domain.webhooks import Endpoint, EndpointStatus, RetryPolicy

MAX_QUEUE_DELAY = 900
"""SQS delays a message 15 minutes at most: longer waits take several hops (``not_before``)."""


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint. ``payload``: the body, the same bytes at every attempt;
    ``message_id``: the event's ``event_id`` (the receiver's de-duplication key)."""

    endpoint_id: str
    message_id: str
    detail_type: str
    payload: str
    attempt: int = 1
    not_before: float = 0.0
    last_error: str | None = None

    def to_json(self) -> str:
        return json.dumps({"delivery": self.__dict__})

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Delivery:
        return cls(**body["delivery"])


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    error: str | None = None


class DeliveryQueue(Protocol):
    def send(self, delivery: Delivery, delay_seconds: int) -> None: ...

    def dead_letter(self, delivery: Delivery, reason: str) -> None: ...


class EndpointStore(Protocol):
    def get(self, endpoint_id: str) -> Endpoint | None: ...

    def all(self) -> list[Endpoint]: ...

    def record_failure(self, endpoint_id: str, now: datetime) -> None: ...

    def record_success(self, endpoint_id: str) -> None: ...

    def set_status(self, endpoint_id: str, status: EndpointStatus) -> bool: ...


Post = Callable[[Endpoint, Delivery, datetime], AttemptResult]
"""Signs and POSTs one delivery to its endpoint (the adapter)."""


@dataclass
class WebhookDispatcher:
    endpoints: EndpointStore
    queue: DeliveryQueue
    post: Post
    policy: RetryPolicy
    clock: Clock
    record: Callable[[str], None] = lambda _name: None

    def fan_out(self, event: Mapping[str, Any]) -> int:
        """One delivery per endpoint that wants the event; how many."""
        detail_type = str(event.get("detail-type"))
        detail = event.get("detail") or {}
        message_id = str(detail.get("event_id") or event.get("id"))
        payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        wanting = [e for e in self.endpoints.all() if e.wants(detail_type)]
        for endpoint in wanting:
            self.queue.send(Delivery(endpoint.id, message_id, detail_type, payload), 0)
        return len(wanting)

    def attempt(self, delivery: Delivery) -> None:
        now = self.clock()
        wait = delivery.not_before - now.timestamp()
        if wait > 0:  # a long wait takes several hops of at most 15 minutes
            self.queue.send(delivery, min(MAX_QUEUE_DELAY, max(1, int(wait + 0.999))))
            return
        endpoint = self.endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            self.record("WebhookDeliveriesDropped")  # the endpoint was removed meanwhile
            return
        if endpoint.status is EndpointStatus.DISABLED:
            self.queue.dead_letter(delivery, "endpoint disabled")
            return
        result = self.post(endpoint, delivery, now)
        if result.ok:
            self.endpoints.record_success(endpoint.id)
            self.record("WebhookDeliveries")
            return
        self.record("WebhookAttemptsFailed")
        self._failed(endpoint, delivery, result.error or "failed", now)

    def _failed(self, endpoint: Endpoint, delivery: Delivery, error: str, now: datetime) -> None:
        self.endpoints.record_failure(endpoint.id, now)
        failing = self.endpoints.get(endpoint.id) or endpoint
        failed = Delivery(**{**delivery.__dict__, "last_error": error})
        if self.policy.disables(failing, now):
            self.endpoints.set_status(endpoint.id, EndpointStatus.DISABLED)
            self.record("WebhookEndpointsDisabled")
            self.queue.dead_letter(
                failed, f"endpoint disabled after failing since {failing.failing_since}"
            )
            return
        delay = self.policy.delay_after(delivery.attempt)
        if delay is None:
            self.record("WebhookDeliveriesDeadLettered")
            self.queue.dead_letter(failed, f"no attempt left after {delivery.attempt}: {error}")
            return
        retry = Delivery(
            **{
                **failed.__dict__,
                "attempt": delivery.attempt + 1,
                "not_before": (now + timedelta(seconds=delay)).timestamp(),
            }
        )
        self.queue.send(retry, min(MAX_QUEUE_DELAY, delay))
