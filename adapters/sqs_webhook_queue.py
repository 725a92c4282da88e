"""The webhook delivery queue and its dead-letter queue (domain/webhook_deliveries.py)."""

from __future__ import annotations

from typing import Any

from adapters.aws_clients import client
from domain.webhook_deliveries import Delivery


class SqsWebhookQueue:
    def __init__(self, queue_url: str, dead_letter_url: str, sqs: Any | None = None) -> None:
        self._queue, self._dead = queue_url, dead_letter_url
        self._sqs = sqs or client("sqs")

    def send(self, delivery: Delivery, delay_seconds: int) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue, MessageBody=delivery.to_json(), DelaySeconds=delay_seconds
        )

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Kept with the endpoint and the reason as attributes (`userflow webhooks replay`)."""
        self._sqs.send_message(
            QueueUrl=self._dead,
            MessageBody=delivery.to_json(),
            MessageAttributes={
                "endpoint_id": {"DataType": "String", "StringValue": delivery.endpoint_id},
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
            },
        )
