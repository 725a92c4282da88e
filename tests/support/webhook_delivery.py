"""The webhook delivery function run in-process as the local SQS mapping runs it, and the steps
the webhook tests share (moto stack)."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from handlers import handle_webhook_delivery
from samlocal.sqs_mapping import SqsMapping, SqsPoller
from userflow.commands import webhooks
from userflow.stack import Stack


def delivery_poller(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqsPoller]:
    """The delivery function behind WebhookQueue, with a short retry schedule."""
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "1,1")
    handle_webhook_delivery.dispatcher.cache_clear()
    handle_webhook_delivery._policy.cache_clear()
    handle_webhook_delivery._secrets.clear()
    stack.local = True
    queue = stack.resources["WebhookQueue"]
    yield SqsPoller(
        SqsMapping("WebhookDeliveryFunction", queue["arn"], report_item_failures=True),
        invoke=lambda event: handle_webhook_delivery.handler(event, _context()),
        sqs=stack.client("sqs"),
        queue_url=queue["physical_id"],
        region="us-east-1",
    )
    handle_webhook_delivery.dispatcher.cache_clear()


def _context() -> Any:
    from samlocal.functions.config import LocalFunction, new_context

    function = LocalFunction("WebhookDeliveryFunction", "webhooks", "arn", "h.h", 256, 30, {})
    return new_context(function)


def add_endpoint(stack: Stack, url: str, events: list[str] | None = None) -> tuple[str, str]:
    out = io.StringIO()
    assert webhooks.add(stack, url, events, out) == 0
    text = out.getvalue()
    endpoint = re.search(r"endpoint (\w+)", text)
    secret = re.search(r"(whsec_\S+)", text)
    assert endpoint
    assert secret
    return endpoint.group(1), secret.group(1)


def run_until(poller: SqsPoller, done: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        if not poller.poll_once():
            time.sleep(0.1)


def queue_event(stack: Stack, detail_type: str = "UserCreated") -> None:
    event = {
        "version": "0",
        "id": "e-1",
        "detail-type": detail_type,
        "source": "userflow.users",
        "time": "2026-03-01T09:30:00Z",
        "detail": {"event_id": "11111111-2222-3333-4444-555555555555", "user": {"id": "u-1"}},
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.physical_id("WebhookQueue"), MessageBody=json.dumps(event)
    )


def dead_count(stack: Stack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id("WebhookDeadLetterQueue"),
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
