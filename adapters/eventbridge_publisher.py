"""EventPublisher on EventBridge PutEvents: chunks of <= 10 entries and under 256 KB.

PutEvents can succeed as a call while some entries fail; each entry's result is checked and only
the failed ones are returned. Throttled entries (or a throttled call) are retried here with
exponential backoff and full jitter before being reported as failed. A call that fails outright
(an AWS error or an unreachable endpoint) fails its chunk's entries only, never the whole batch.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws_clients import client
from domain.events import EVENT_SOURCE, LifecycleEvent, PublishFailure

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import (
        PutEventsRequestEntryTypeDef,
        PutEventsResultEntryTypeDef,
    )

MAX_ENTRIES = 10
# "The total entry size must be less than 256KB": a request of exactly this size is refused.
MAX_REQUEST_BYTES = 256 * 1024
# Only throttling is retried here; any other failed entry goes back to Lambda as a batch item
# failure, so the event source mapping's retries, bisecting and on-failure queue take over.
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})


def entry_size(entry: Mapping[str, Any]) -> int:
    """Size as EventBridge counts it: Time 14 bytes; Source, DetailType, Detail, Resources UTF-8."""
    size = 14 if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources", []))


def chunks(entries: Sequence[Mapping[str, Any]]) -> Iterator[list[int]]:
    """Indexes of entries, grouped into requests within both PutEvents limits."""
    batch: list[int] = []
    batch_size = 0
    for index, entry in enumerate(entries):
        size = entry_size(entry)
        if batch and (len(batch) == MAX_ENTRIES or batch_size + size >= MAX_REQUEST_BYTES):
            yield batch
            batch, batch_size = [], 0
        batch.append(index)
        batch_size += size
    if batch:
        yield batch


class EventBridgePublisher:
    def __init__(
        self,
        bus_name: str,
        events_client: EventBridgeClient | None = None,
        max_attempts: int = 4,
        base_delay: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._bus = bus_name
        self._events = events_client or client("events")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._sleep = sleep

    def entry(self, event: LifecycleEvent) -> PutEventsRequestEntryTypeDef:
        entry: PutEventsRequestEntryTypeDef = {
            "Source": EVENT_SOURCE,
            "DetailType": str(event.detail_type),
            "Detail": event.detail_json(),
            "EventBusName": self._bus,
            "Time": event.detail.occurred_at,
        }
        # Lambda sets the X-Ray header of the current invocation; EventBridge carries it on.
        trace_header = os.environ.get("_X_AMZN_TRACE_ID")
        if trace_header:
            entry["TraceHeader"] = trace_header
        return entry

    def publish(self, events: Sequence[LifecycleEvent]) -> list[PublishFailure]:
        entries = [self.entry(event) for event in events]
        failures: list[PublishFailure] = []
        for indexes in chunks(entries):
            for index, (code, message) in self._put(entries, indexes).items():
                failures.append(PublishFailure(events[index], code, message))
        return failures

    def _put(
        self, entries: list[PutEventsRequestEntryTypeDef], indexes: list[int]
    ) -> dict[int, tuple[str, str]]:
        """Send one chunk, retrying throttled entries; the entries still failed at the end."""
        failed: dict[int, tuple[str, str]] = {}
        pending = [i for i in indexes if entry_size(entries[i]) < MAX_REQUEST_BYTES]
        for i in set(indexes) - set(pending):
            failed[i] = ("EntryTooLarge", "entry is not under the 256 KB PutEvents limit")
        for attempt in range(self._max_attempts):
            if not pending:
                break
            if attempt:
                self._sleep(random.uniform(0, self._base_delay * 2**attempt))  # noqa: S311
            results = self._call([entries[i] for i in pending])
            retry: list[int] = []
            for index, result in zip(pending, results, strict=True):
                code = result.get("ErrorCode")
                if not code:
                    failed.pop(index, None)
                    continue
                failed[index] = (code, result.get("ErrorMessage", ""))
                if code in THROTTLING_CODES:
                    retry.append(index)
            pending = retry
        return failed

    def _call(
        self, entries: list[PutEventsRequestEntryTypeDef]
    ) -> list[PutEventsResultEntryTypeDef]:
        """Per-entry results; a failed call counts as every entry failing with its error code."""
        try:
            response = self._events.put_events(Entries=entries)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            message = error.response.get("Error", {}).get("Message", str(error))
            return [{"ErrorCode": code, "ErrorMessage": message} for _ in entries]
        except BotoCoreError as error:  # connection or timeout, after botocore's own retries
            failed: PutEventsResultEntryTypeDef = {
                "ErrorCode": type(error).__name__,
                "ErrorMessage": str(error),
            }
            return [failed for _ in entries]
        return response["Entries"]
