"""EventBridge's delivery to rule targets, run locally: asynchronous, per target, dead-lettered.

``PutEvents`` only accepts events onto the bus; each matching rule target then gets its own
delivery, which can fail on its own (see ``docs/local-aws.md``). Locally:

- a deleted queue (``NO_RESOURCE``) or a queue policy that does not let ``events.amazonaws.com``
  send for this rule (``NO_PERMISSIONS``) is not retried: AWS sends such events straight to the
  target's dead-letter queue;
- any other failure is retried per the target's ``RetryPolicy`` (``MaximumRetryAttempts``,
  ``MaximumEventAgeInSeconds``), with short local back-off, then dead-lettered;
- the dead-letter message is the event, with the message attributes AWS sets: ``RULE_ARN``,
  ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION`` (when retries
  ran out) and ``RETRY_ATTEMPTS``. A dead-letter queue must allow EventBridge too.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.sqs.models import sqs_backends

from samlocal.eventbridge.queue_policy import allows_eventbridge

log = logging.getLogger("samlocal")

DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_EVENT_AGE_S = 86400
FIRST_RETRY_DELAY_S = 0.05
MAX_RETRY_DELAY_S = 0.5
"""Local back-off: doubling from 50 ms, capped at 0.5 s (AWS backs off over up to 24 h)."""


class DeliveryFailed(Exception):
    """A target refused or could not take an event; ``code`` is one of EventBridge's."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


@dataclass
class Delivery:
    """One event for one rule target."""

    rule_arn: str
    target: dict[str, Any]
    event: dict[str, Any]
    accepted_at: float = field(default_factory=time.monotonic)
    retries: int = 0

    @property
    def body(self) -> str:
        """The event as EventBridge sends it to a queue (``time`` as ISO 8601)."""
        event = dict(self.event)
        if isinstance(event.get("time"), int | float):
            event["time"] = iso_8601_datetime_without_milliseconds(
                utcfromtimestamp(float(event["time"]))  # type: ignore[arg-type]
            )
        return json.dumps(event)


def _queue(arn: str, rule_arn: str) -> Any:
    """The moto queue behind ``arn`` if EventBridge may send to it for the rule; else raises."""
    _, _, service, region, account, name = (arn.split(":", 5) + [""] * 6)[:6]
    if service != "sqs":
        raise DeliveryFailed("INVALID_PARAMETER", f"{arn} is not a queue", retryable=False)
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        raise DeliveryFailed("NO_RESOURCE", "The specified queue does not exist.", retryable=False)
    if not allows_eventbridge(queue.policy, queue_arn=arn, rule_arn=rule_arn, account=account):
        raise DeliveryFailed(
            "NO_PERMISSIONS", f"Access to the resource {arn} is denied.", retryable=False
        )
    return queue


def send_to_queue(delivery: Delivery) -> None:
    """Sends the event to its target queue, as EventBridge (a service principal) would."""
    arn = delivery.target["Arn"]
    queue = _queue(arn, delivery.rule_arn)
    group_id = delivery.target.get("SqsParameters", {}).get("MessageGroupId")
    backend = sqs_backends[arn.split(":")[4]][arn.split(":")[3]]
    try:
        backend.send_message(queue_name=queue.name, message_body=delivery.body, group_id=group_id)
    except Exception as error:
        raise DeliveryFailed("SDK_CLIENT_ERROR", str(error), retryable=True) from error


class TargetDelivery:
    """Delivers submitted events on a background thread; one failing target delays no other."""

    def __init__(
        self,
        send: Callable[[Delivery], None] = send_to_queue,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.send = send
        self.clock = clock
        self._pending: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._busy = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="eventbridge-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()

    def submit(self, delivery: Delivery, delay: float = 0.0) -> None:
        with self._wake:
            heapq.heappush(self._pending, (self.clock() + delay, next(self._order), delivery))
            self._wake.notify_all()

    def drain(self, timeout: float = 10.0) -> None:
        """Delivers until nothing is pending, on the calling thread (tests, in-process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivery = self._next(block=False)
            if delivery is not None:
                self._attempt(delivery)
            elif not self._pending:
                return
            else:
                time.sleep(0.01)

    def _next(self, block: bool) -> Delivery | None:
        with self._wake:
            while not self._stopped:
                if self._pending and self._pending[0][0] <= self.clock():
                    return heapq.heappop(self._pending)[2]
                if not block:
                    return None
                wait = self._pending[0][0] - self.clock() if self._pending else None
                self._wake.wait(wait)
            return None

    def _run(self) -> None:
        while (delivery := self._next(block=True)) is not None:
            try:
                self._attempt(delivery)
            except Exception:
                log.exception("EventBridge delivery to %s failed", delivery.target.get("Arn"))

    def _attempt(self, delivery: Delivery) -> None:
        try:
            self.send(delivery)
        except DeliveryFailed as failure:
            self._failed(delivery, failure)

    def _failed(self, delivery: Delivery, failure: DeliveryFailed) -> None:
        if not failure.retryable:
            self._dead_letter(delivery, failure, exhausted=None)
            return
        policy = delivery.target.get("RetryPolicy", {})
        max_retries = int(policy.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_S))
        if delivery.retries >= max_retries:
            self._dead_letter(delivery, failure, exhausted="MaximumRetryAttempts")
        elif self.clock() - delivery.accepted_at >= max_age:
            self._dead_letter(delivery, failure, exhausted="MaximumEventAgeInSeconds")
        else:
            delay = min(FIRST_RETRY_DELAY_S * 2**delivery.retries, MAX_RETRY_DELAY_S)
            delivery.retries += 1
            self.submit(delivery, delay)

    def _dead_letter(
        self, delivery: Delivery, failure: DeliveryFailed, exhausted: str | None
    ) -> None:
        target_arn = delivery.target["Arn"]
        dead_letter_arn = delivery.target.get("DeadLetterConfig", {}).get("Arn")
        log.warning(
            "EventBridge could not deliver event %s to %s: %s %s%s",
            delivery.event.get("id"),
            target_arn,
            failure.code,
            failure.message,
            f"; sent to {dead_letter_arn}" if dead_letter_arn else "; dropped (no DLQ)",
        )
        if not dead_letter_arn:
            return
        attributes = {
            "RULE_ARN": delivery.rule_arn,
            "TARGET_ARN": target_arn,
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message,
            "RETRY_ATTEMPTS": str(delivery.retries),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        try:
            queue = _queue(dead_letter_arn, delivery.rule_arn)
            sqs_backends[dead_letter_arn.split(":")[4]][dead_letter_arn.split(":")[3]].send_message(
                queue_name=queue.name,
                message_body=delivery.body,
                message_attributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                },
            )
        except Exception:
            log.exception("EventBridge could not send to the dead-letter queue %s", dead_letter_arn)
