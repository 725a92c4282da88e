"""Re-driving dead-lettered webhook deliveries (WebhookDeadLetterQueue, docs/events/webhooks.md).

Each delivery goes back to WebhookQueue, where the delivery function consumes them, from its
first attempt and with its payload and id unchanged: receivers de-duplicate on ``webhook-id``
(the event's id), so a delivery re-driven twice (a replay stopped between sending and deleting)
is still one event to them. A delivery to a removed endpoint is dropped, as the function would
drop it; one to a disabled endpoint stays: re-enabling an endpoint is the operator's decision.

This is the one implementation: `userflow dlq replay` re-drives deliveries among the other dead
letters, and `userflow webhooks replay ENDPOINT` enables the endpoint, then runs the same replay
over this queue for that endpoint's deliveries (``Limits.endpoint``).

An event the fan-out kept failing on (SQS moved it here after ``maxReceiveCount`` receives) goes
back to the queue it came from, the one whose redrive policy names this DLQ (``back_to_source``):
for this queue, WebhookQueue, where it is fanned out again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from domain.webhook_deliveries import Delivery
from domain.webhooks import EndpointStatus
from userflow.dlq.dead_letters import FailedEvent, WebhookDelivery
from userflow.dlq.messages import read_message
from userflow.stack import Stack

if TYPE_CHECKING:
    from adapters.dynamodb_webhook_endpoints import DynamoDBWebhookEndpoints

WEBHOOK_QUEUE = "WebhookQueue"
WEBHOOK_DEAD_LETTER_QUEUE = "WebhookDeadLetterQueue"


def endpoint_store(stack: Stack) -> DynamoDBWebhookEndpoints:
    """The stack's webhook endpoints (the table's WEBHOOKS partition)."""
    from adapters.dynamodb_webhook_endpoints import DynamoDBWebhookEndpoints

    return DynamoDBWebhookEndpoints(
        stack.physical_id("UserRegistrationTable"), stack.client("dynamodb")
    )


def redelivery(delivery: Delivery) -> Delivery:
    """The delivery as the function takes it anew: its first attempt, due now."""
    return dataclasses.replace(delivery, attempt=1, not_before=0.0)


def delivers_to(message: dict[str, Any], endpoint_id: str) -> bool:
    letter = read_message(message)
    return isinstance(letter, WebhookDelivery) and letter.endpoint_id == endpoint_id


class WebhookRedelivery:
    def __init__(self, stack: Stack, dry_run: bool, say: Callable[[str], None], sqs: Any) -> None:
        self.stack = stack
        self.dry_run = dry_run
        self.say = say
        self.sqs = sqs
        self._endpoints: DynamoDBWebhookEndpoints | None = None

    def redrive(self, letter: WebhookDelivery) -> str | None:
        """None once re-queued (dry: if it would be) or dropped; else why it stays."""
        if self._endpoints is None:
            self._endpoints = endpoint_store(self.stack)
        endpoint = self._endpoints.get(letter.endpoint_id)
        if endpoint is None:
            verb = "would be dropped" if self.dry_run else "dropped"
            self.say(f"    endpoint {letter.endpoint_id} was removed: nothing to deliver, {verb}")
            return None
        if endpoint.status is EndpointStatus.DISABLED:
            return (
                f"endpoint {endpoint.id} is disabled: `userflow webhooks replay {endpoint.id}` "
                "enables it and re-drives its deliveries"
            )
        if self.dry_run:
            self.say(f"    would re-queue to {WEBHOOK_QUEUE} (attempt 1)")
            return None
        self.sqs.send_message(
            QueueUrl=self.stack.physical_id(WEBHOOK_QUEUE),
            MessageBody=redelivery(letter.delivery).to_json(),
        )
        self.say(f"    re-queued to {WEBHOOK_QUEUE} (attempt 1)")
        return None


def back_to_source(
    sqs: Any, dead_letter_url: str, letter: FailedEvent, dry_run: bool, say: Callable[[str], None]
) -> str | None:
    """Sends the event back to the one queue whose redrive policy names this DLQ (SQS's own
    redrive to source); None once sent (dry: if it would be), else why it stays."""
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dead_letter_url).get("queueUrls", [])
    if len(sources) != 1:
        found = ", ".join(sources) or "none"
        return f"no single queue sends its dead letters here (found: {found}): re-send it by hand"
    name = sources[0].rstrip("/").rsplit("/", 1)[-1]
    if dry_run:
        say(f"    would re-send to {name}")
        return None
    sqs.send_message(QueueUrl=sources[0], MessageBody=letter.body)
    say(f"    re-sent to {name}")
    return None
