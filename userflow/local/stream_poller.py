"""Lambda's DynamoDB event source mapping, run locally against moto's table stream.

Moto cannot run Lambda code and an event source mapping created in moto silently drops records,
so this poller reads the stream itself and reproduces what Lambda does (see
/work/shared/AWS-NOTES.md): batches of up to ``BatchSize`` records after ``FilterCriteria``,
partial batch responses (checkpoint before the lowest failed sequence number), bisection on
function errors (not counted as retries), ``MaximumRetryAttempts`` and
``MaximumRecordAgeInSeconds``, then a metadata record to the on-failure destination, and the shard
moves on. Retries are fast locally (``retry_delay``), and batching windows are capped at one second.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from userflow.local.patterns import matches, validate
from userflow.local.template import Resolver, Template

log = logging.getLogger("userflow-local")

Invoke = Callable[[dict[str, Any]], Any]
"""Invokes the mapped function with an event; raises on a function error."""
MAX_LOCAL_BATCHING_WINDOW = 1.0


@dataclass(frozen=True)
class StreamMapping:
    """One ``Type: DynamoDB`` event of a function, with Lambda's defaults."""

    function: str
    stream_arn: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    filters: tuple[Mapping[str, Any], ...] = ()
    report_item_failures: bool = False
    bisect_on_error: bool = False
    max_retries: int = -1
    max_record_age_s: int = -1
    on_failure: str | None = None
    enabled: bool = True


def mappings_from_template(template: Template, resolver: Resolver) -> list[StreamMapping]:
    """Every DynamoDB stream event source of the template's functions, resolved."""
    mappings = []
    for logical_id in template.of_type("AWS::Serverless::Function"):
        events = template.resources[logical_id].get("Properties", {}).get("Events", {})
        for event in events.values():
            if event.get("Type") != "DynamoDB":
                continue
            p = resolver.resolve(event.get("Properties", {}))
            filters = tuple(
                json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"]
                for f in p.get("FilterCriteria", {}).get("Filters", [])
            )
            for pattern in filters:
                try:
                    validate(pattern)
                except ValueError as error:
                    # CreateEventSourceMapping refuses it: the deploy would fail.
                    raise ValueError(f"{logical_id}: invalid FilterCriteria: {error}") from None
            mappings.append(
                StreamMapping(
                    function=logical_id,
                    stream_arn=str(p["Stream"]),
                    batch_size=int(p.get("BatchSize", 100)),
                    batching_window_s=float(p.get("MaximumBatchingWindowInSeconds", 0)),
                    starting_position=str(p.get("StartingPosition", "TRIM_HORIZON")),
                    filters=filters,
                    report_item_failures="ReportBatchItemFailures"
                    in p.get("FunctionResponseTypes", []),
                    bisect_on_error=bool(p.get("BisectBatchOnFunctionError", False)),
                    max_retries=int(p.get("MaximumRetryAttempts", -1)),
                    max_record_age_s=int(p.get("MaximumRecordAgeInSeconds", -1)),
                    on_failure=_on_failure(p),
                    enabled=bool(p.get("Enabled", True)),
                )
            )
    return mappings


def _on_failure(properties: Mapping[str, Any]) -> str | None:
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return str(destination) if destination else None


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    position: str
    """Where reading starts while nothing has been read: TRIM_HORIZON or LATEST."""
    checkpoint: str | None = None
    """Sequence number of the last record read."""
    buffer: list[dict[str, Any]] = field(default_factory=list)
    waiting_since: float = 0.0
    """When the oldest buffered record was read (for the batching window)."""


@dataclass
class _Outcome:
    """How one invocation went: the index of the first record to retry, or None for success."""

    retry_from: int | None
    function_error: bool = False


def _iso(moment: datetime, millis: bool = False) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


class StreamPoller:
    """Polls one mapping's stream, all shards, and invokes its function as Lambda would."""

    def __init__(
        self,
        mapping: StreamMapping,
        *,
        invoke: Invoke,
        function_arn: str,
        streams_client: Any,
        destination_client: Callable[[str], Any],
        region: str,
        retry_delay: float = 0.05,
        poll_interval: float = 0.2,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mapping = mapping
        self.invoke = invoke
        self.function_arn = function_arn
        self.streams = streams_client
        self.destination_client = destination_client
        self.region = region
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.stop = stop or threading.Event()
        self.clock = clock
        self._shards: dict[str, _Shard] = {}
        self._started = False
        self._queue_urls: dict[str, str] = {}

    # ------------------------------------------------------------------ reading
    def _discover_shards(self) -> None:
        described: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {"StreamArn": self.mapping.stream_arn}
        while True:
            page = self.streams.describe_stream(**arguments)["StreamDescription"]
            described.extend(page.get("Shards", []))
            if not page.get("LastEvaluatedShardId"):
                break
            arguments["ExclusiveStartShardId"] = page["LastEvaluatedShardId"]
        for shard in described:
            shard_id = shard["ShardId"]
            if shard_id in self._shards:
                continue
            # Shards that exist when the mapping starts honour StartingPosition; shards that
            # appear later are read from their start, as Lambda does with child shards.
            position = self.mapping.starting_position if not self._started else "TRIM_HORIZON"
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.mapping.stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]
            self._shards[shard_id] = _Shard(shard_id, iterator, position)
        self._started = True

    def _iterator(self, shard: _Shard) -> str | None:
        """A fresh iterator from the checkpoint, as Lambda takes when an iterator expires: the
        stream is looked up again on every read, so a table object that the emulation replaces
        (or a restarted stream) cannot leave the poller reading a stale shard."""
        if shard.checkpoint is None and shard.position == "LATEST":
            return shard.iterator
        arguments: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        if shard.checkpoint is not None:
            arguments = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": shard.checkpoint,
            }
        iterator: str = self.streams.get_shard_iterator(
            StreamArn=self.mapping.stream_arn, ShardId=shard.shard_id, **arguments
        )["ShardIterator"]
        return iterator

    def _read(self, shard: _Shard) -> None:
        iterator = self._iterator(shard)
        if iterator is None:
            return
        page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        shard.iterator = page.get("NextShardIterator")
        if not shard.buffer:
            shard.waiting_since = time.monotonic()
        for record in page.get("Records", []):
            shard.checkpoint = record["dynamodb"]["SequenceNumber"]
            event_record = self._event_record(record)
            if not self.mapping.filters or any(
                matches(pattern, event_record) for pattern in self.mapping.filters
            ):
                shard.buffer.append(event_record)

    def _event_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record as Lambda delivers it: region, source ARN, epoch creation time."""
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        elif created is None:
            dynamodb["ApproximateCreationDateTime"] = int(time.time())
        event_record = {
            **record,
            "awsRegion": self.region,
            "eventSourceARN": self.mapping.stream_arn,
            "dynamodb": dynamodb,
        }
        return event_record

    # ------------------------------------------------------------------ driving
    def run(self) -> None:
        """Polls until ``stop`` is set; errors reaching AWS are logged and retried."""
        last_discovery = 0.0
        while not self.stop.is_set():
            try:
                if time.monotonic() - last_discovery > 2.0:
                    self._discover_shards()
                    last_discovery = time.monotonic()
                busy = self.poll_once(discover=False)
            except Exception:
                log.exception("stream poller for %s failed; retrying", self.mapping.function)
                busy = False
            if not busy:
                self.stop.wait(self.poll_interval)

    def poll_once(self, discover: bool = True) -> bool:
        """Reads every shard and processes at most one batch per shard; True if it did work."""
        if discover:
            self._discover_shards()
        busy = False
        for shard in list(self._shards.values()):
            self._read(shard)
            if not shard.buffer or not self._batch_ready(shard):
                continue
            batch = shard.buffer[: self.mapping.batch_size]
            self._process(shard, batch)
            del shard.buffer[: len(batch)]
            busy = True
        return busy

    def drain(self, timeout: float = 10.0) -> None:
        """Processes until nothing is pending (tests)."""
        deadline = time.monotonic() + timeout
        self._discover_shards()
        while time.monotonic() < deadline:
            busy = self.poll_once(discover=False)
            if not busy and not any(shard.buffer for shard in self._shards.values()):
                return
            if not busy:
                time.sleep(0.01)

    def _batch_ready(self, shard: _Shard) -> bool:
        window = min(self.mapping.batching_window_s, MAX_LOCAL_BATCHING_WINDOW)
        if window <= 0 or len(shard.buffer) >= self.mapping.batch_size:
            return True
        return time.monotonic() - shard.waiting_since >= window

    # ------------------------------------------------------------------ Lambda semantics
    def _process(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        """Delivers a batch until it succeeds or is given up, then the shard moves past it."""
        segments = [batch]
        failures = 0
        outcome = _Outcome(retry_from=0)
        while segments and not self.stop.is_set():
            segment = self._drop_expired(shard, segments[0], failures, outcome)
            if not segment:
                segments.pop(0)
                continue
            segments[0] = segment
            request_id = str(uuid.uuid4())
            outcome = self._invoke(segment)
            if outcome.retry_from is None:
                segments.pop(0)
                failures = 0
                continue
            if outcome.function_error and self.mapping.bisect_on_error and len(segment) > 1:
                half = len(segment) // 2
                segments[0:1] = [segment[:half], segment[half:]]
                failures = 0
                continue
            if outcome.retry_from > 0:
                failures = 0  # the checkpoint moved: the new head has failed once
            failures += 1
            segment = segment[outcome.retry_from :]
            segments[0] = segment
            if 0 <= self.mapping.max_retries < failures:
                self._send_failure(
                    shard,
                    segment,
                    condition="RetryAttemptsExhausted",
                    invoke_count=failures,
                    request_id=request_id,
                    outcome=outcome,
                )
                segments.pop(0)
                failures = 0
                continue
            self.stop.wait(self.retry_delay)

    def _drop_expired(
        self, shard: _Shard, segment: list[dict[str, Any]], invokes: int, last: _Outcome
    ) -> list[dict[str, Any]]:
        """Gives up records past ``MaximumRecordAgeInSeconds``, reporting the failed invokes
        they already had (none when they expired while waiting)."""
        limit = self.mapping.max_record_age_s
        if limit < 0:
            return segment
        now = self.clock()
        expired = [r for r in segment if now - r["dynamodb"]["ApproximateCreationDateTime"] > limit]
        if expired:
            self._send_failure(
                shard,
                expired,
                condition="RecordAgeExceeded",
                invoke_count=invokes,
                request_id=str(uuid.uuid4()),
                outcome=last,
            )
        return [r for r in segment if r not in expired]

    def _invoke(self, segment: list[dict[str, Any]]) -> _Outcome:
        try:
            result = self.invoke({"Records": segment})
        except Exception:
            log.warning("%s failed on a batch of %d records", self.mapping.function, len(segment))
            return _Outcome(retry_from=0, function_error=True)
        if not self.mapping.report_item_failures:
            return _Outcome(retry_from=None)
        return _Outcome(retry_from=_first_failed(result, segment))

    def _send_failure(
        self,
        shard: _Shard,
        segment: list[dict[str, Any]],
        *,
        condition: str,
        invoke_count: int,
        request_id: str,
        outcome: _Outcome,
    ) -> None:
        """Sends AWS's on-failure metadata record for a batch that is given up."""
        first, last = segment[0]["dynamodb"], segment[-1]["dynamodb"]
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if outcome.function_error:
            response_context["functionError"] = "Unhandled"
        message = {
            "requestContext": {
                "requestId": request_id,
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(datetime.now(UTC), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(
                    datetime.fromtimestamp(first["ApproximateCreationDateTime"], UTC)
                ),
                "approximateArrivalOfLastRecord": _iso(
                    datetime.fromtimestamp(last["ApproximateCreationDateTime"], UTC)
                ),
                "batchSize": len(segment),
                "streamArn": self.mapping.stream_arn,
            },
        }
        log.error(
            "%s gave up %d records (%s) of shard %s",
            self.mapping.function,
            len(segment),
            condition,
            shard.shard_id,
        )
        destination = self.mapping.on_failure
        if not destination:
            return
        try:
            self._deliver(destination, json.dumps(message))
        except Exception:
            log.exception("cannot send the on-failure record to %s", destination)

    def _deliver(self, destination: str, body: str) -> None:
        service = destination.split(":")[2]
        if service == "sns":
            self.destination_client("sns").publish(TopicArn=destination, Message=body)
            return
        sqs = self.destination_client("sqs")
        if destination not in self._queue_urls:
            account, name = destination.split(":")[4:6]
            self._queue_urls[destination] = sqs.get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        sqs.send_message(QueueUrl=self._queue_urls[destination], MessageBody=body)


def _first_failed(result: Any, segment: list[dict[str, Any]]) -> int | None:
    """Index of the lowest failed record in a partial batch response; 0 when it is invalid."""
    if result is None or result == {}:
        return None
    if not isinstance(result, Mapping):
        return 0
    failures = result.get("batchItemFailures")
    if not failures:
        return None
    positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(segment)}
    indexes = []
    for failure in failures if isinstance(failures, list) else [None]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier or identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes)
