"""What Lambda's stream event source mapping does with one batch until it succeeds or gives up.

Partial batch responses checkpoint before the lowest failed sequence number; a function error
bisects the batch (``BisectBatchOnFunctionError``, not counted as a retry); ``MaximumRetryAttempts``
and ``MaximumRecordAgeInSeconds`` bound the retries, after which the records are handed to the
on-failure destination and the shard moves on. Retries are fast locally (``retry_delay``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from samlocal.functions import Invoke
from samlocal.stream_mapping.mappings import StreamMapping
from samlocal.stream_mapping.on_failure import GivenUp

log = logging.getLogger("samlocal")

Records = list[dict[str, Any]]


@dataclass
class _Outcome:
    """How one invocation went: the index of the first record to retry, or None for success."""

    retry_from: int | None
    function_error: bool = False


class BatchDelivery:
    """Delivers batches of one mapping to its function with Lambda's retry semantics."""

    def __init__(
        self,
        mapping: StreamMapping,
        invoke: Invoke,
        give_up: Callable[[Records, GivenUp], None],
        *,
        retry_delay: float,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mapping = mapping
        self.invoke = invoke
        self.give_up = give_up
        self.retry_delay = retry_delay
        self.stop = stop
        self.clock = clock

    def process(self, batch: Records) -> None:
        """Delivers a batch until it succeeds or is given up (or the poller stops)."""
        segments = [batch]
        failures = 0
        outcome = _Outcome(retry_from=0)
        while segments and not self.stop.is_set():
            segment = self._drop_expired(segments[0], failures, outcome)
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
                self.give_up(
                    segment,
                    GivenUp("RetryAttemptsExhausted", failures, request_id, outcome.function_error),
                )
                segments.pop(0)
                failures = 0
                continue
            self.stop.wait(self.retry_delay)

    def _drop_expired(self, segment: Records, invokes: int, last: _Outcome) -> Records:
        """Gives up records past ``MaximumRecordAgeInSeconds``, reporting the failed invokes
        they already had (none when they expired while waiting)."""
        limit = self.mapping.max_record_age_s
        if limit < 0:
            return segment
        now = self.clock()
        expired = [r for r in segment if now - r["dynamodb"]["ApproximateCreationDateTime"] > limit]
        if expired:
            self.give_up(
                expired,
                GivenUp("RecordAgeExceeded", invokes, str(uuid.uuid4()), last.function_error),
            )
        return [r for r in segment if r not in expired]

    def _invoke(self, segment: Records) -> _Outcome:
        try:
            result = self.invoke(self.mapping.function, {"Records": segment})
        except Exception:
            log.warning("%s failed on a batch of %d records", self.mapping.name, len(segment))
            return _Outcome(retry_from=0, function_error=True)
        if not self.mapping.report_item_failures:
            return _Outcome(retry_from=None)
        return _Outcome(retry_from=first_failed(result, segment))


def first_failed(result: Any, segment: Records) -> int | None:
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
