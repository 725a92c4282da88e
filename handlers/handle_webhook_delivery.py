"""Webhook deliveries (docs/events/webhooks.md): SQS batch -> fan-out / signed POST / retry later /
dead-letter (domain/webhook_deliveries.py). The queue receives every event from the bus (rule
WebhookDeliveryRule) and the function's own deliveries, delayed for their retries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import client
from adapters.dynamodb_webhook_endpoints import DynamoDBWebhookEndpoints
from adapters.sqs_webhook_queue import SqsWebhookQueue
from adapters.webhook_delivery import deliver, signed_headers
from domain.clock import utc_now
from domain.webhook_deliveries import AttemptResult, Delivery, WebhookDispatcher
from domain.webhooks import Endpoint, RetryPolicy, UrlPolicy, parse_schedule
from handlers.observability import logger, metrics, traced
from handlers.settings import WebhookSettings, load

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
SECRET_CACHE_SECONDS = 300.0
_secrets: dict[str, tuple[datetime, dict[str, str]]] = {}


def _secret(endpoint_id: str, now: datetime) -> str:
    """The endpoint's signing secret from WebhookSigningSecrets (one JSON object by endpoint
    id), cached for 5 minutes; read again at once for an endpoint added since."""
    arn = load(WebhookSettings).webhook_secrets_arn
    cached = _secrets.get(arn)
    if cached is None or cached[0] <= now or endpoint_id not in cached[1]:
        value = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        cached = (now + timedelta(seconds=SECRET_CACHE_SECONDS), json.loads(value))
        _secrets[arn] = cached
    return cached[1][endpoint_id]


@cache
def _policy() -> UrlPolicy:
    return UrlPolicy(local=load(WebhookSettings).stage == "local")


def _post(endpoint: Endpoint, delivery: Delivery, now: datetime) -> AttemptResult:
    body = delivery.payload.encode()
    headers = signed_headers(_secret(endpoint.id, now), delivery.message_id, body, now)
    attempt = deliver(_policy(), endpoint.url, headers, body)
    if not attempt.ok:
        logger.warning(
            "Webhook attempt failed",
            extra={"endpoint_id": endpoint.id, "attempt": delivery.attempt, "error": attempt.error},
        )
    return AttemptResult(attempt.ok, attempt.error)


@cache
def dispatcher() -> WebhookDispatcher:
    settings = load(WebhookSettings)
    return WebhookDispatcher(
        endpoints=DynamoDBWebhookEndpoints(settings.table_name),
        queue=SqsWebhookQueue(settings.webhook_queue_url, settings.webhook_dead_letter_queue_url),
        post=_post,
        policy=RetryPolicy(
            schedule=parse_schedule(settings.webhook_retry_schedule),
            disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        ),
        clock=utc_now,
        record=lambda name: metrics.add_metric(name=name, unit="Count", value=1),
    )


def _record_handler(record: SQSRecord) -> None:
    body: Any = json.loads(record.body)
    if isinstance(body, dict) and "delivery" in body:
        dispatcher().attempt(Delivery.from_body(body))
    elif isinstance(body, dict) and "detail-type" in body:
        dispatcher().fan_out(body)
    else:
        logger.error("Not an event or a delivery: dropped", extra={"message_id": record.message_id})


@metrics.log_metrics(capture_cold_start_metric=True)
def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=_record_handler, processor=processor, context=context
        )
    )


handler = logger.inject_lambda_context(traced(process))
