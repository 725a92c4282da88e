"""Table stream -> lifecycle events on EventBridge (partial batch responses).

Every record is mapped and the whole batch published first (PutEvents takes ten at a time); the
BatchProcessor then fails exactly the records whose events were not published, so Lambda retries
only those. Poison records go to the poison queue and succeed, so they never block the shard.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.eventbridge_publisher import EventBridgePublisher
from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.stream_records import table_change
from adapters.user_items import user_of_keys
from domain.event_pipeline import LifecyclePipeline, Outcome, RecordStatus, sequence_number
from handlers.cold_start import started
from handlers.observability import logger, metrics, traced
from handlers.settings import UserStreamSettings, load

# Failed records are reported as batch item failures, also when all of them failed: a function
# error would make Lambda bisect the batch, which cannot help a publishing outage.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)

METRIC_NAMES = {
    RecordStatus.PUBLISHED: "EventsPublished",
    RecordStatus.SKIPPED: "RecordsSkipped",
    RecordStatus.POISON: "PoisonRecords",
    RecordStatus.FAILED: "EventsFailed",
}


class RecordNotPublished(Exception):
    """Raised for a record whose event failed, so that the processor reports it for retry."""


@cache
def pipeline() -> LifecyclePipeline:
    settings = load(UserStreamSettings)
    return LifecyclePipeline(
        EventBridgePublisher(settings.event_bus_name),
        table_change,
        SqsPoisonQueue(settings.poison_queue_url),
    )


def _report(records: list[dict[str, Any]], outcomes: dict[str, Outcome]) -> None:
    for status, name in METRIC_NAMES.items():
        count = sum(1 for outcome in outcomes.values() if outcome.status is status)
        if count:
            metrics.add_metric(name=name, unit="Count", value=count)
    for record in records:
        number = sequence_number(record)
        outcome = outcomes[number]
        if outcome.status in (RecordStatus.POISON, RecordStatus.FAILED):
            logger.warning(
                "Record not published",
                extra={
                    "sequence_number": number,
                    "user_id": user_of_keys((record.get("dynamodb") or {}).get("Keys")),
                    "status": str(outcome.status),
                    "reason": outcome.reason,
                },
            )


@metrics.log_metrics(capture_cold_start_metric=True)
def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    outcomes = pipeline().process(records)
    _report(records, outcomes)

    def record_handler(record: DynamoDBRecord) -> None:
        outcome = outcomes[(record.dynamodb and record.dynamodb.sequence_number) or ""]
        if outcome.status is RecordStatus.FAILED:
            raise RecordNotPublished(outcome.reason)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


handler = started(logger.inject_lambda_context(traced(process)))
