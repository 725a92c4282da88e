"""Stream records re-published through the processor's own pipeline (a dry run maps them only).

Entries that fail for a reason that may pass (throttling, InternalFailure, an unreachable endpoint)
are retried here with exponential backoff and full jitter; what still fails is named (user,
sequence number, error), for the dead letter to be narrowed to it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.stream_records import events_of_record
from adapters.user_items import user_of_keys
from domain.event_pipeline import LifecyclePipeline, Outcome, RecordStatus, sequence_number
from domain.events import PoisonRecord

# Failures retrying cannot fix: the same entry fails the same way.
PERMANENT_CODES = frozenset(
    {"EntryTooLarge", "ValidationException", "AccessDeniedException", "MalformedDetail"}
)


@dataclass
class Published:
    """What still fails: one line per record naming it and why, and their sequence numbers."""

    problems: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def user_of(record: Mapping[str, Any]) -> str:
    return user_of_keys((record.get("dynamodb") or {}).get("Keys", {}))


def _record_name(record: Mapping[str, Any]) -> str:
    return f"user {user_of(record)} (sequence {sequence_number(record)})"


def _retryable(outcome: Outcome) -> bool:
    code = (outcome.reason or "").split(":", 1)[0]
    return outcome.status is RecordStatus.FAILED and code not in PERMANENT_CODES


class RecordPublisher:
    def __init__(
        self,
        dry_run: bool,
        say: Callable[[str], None],
        *,
        attempts: int = 4,
        base_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dry_run = dry_run
        self.say = say
        self.attempts = attempts
        self.base_delay = base_delay
        self.sleep = sleep

    def publish(
        self, records: Sequence[Mapping[str, Any]], pipeline: LifecyclePipeline
    ) -> Published:
        """Publishes (or, dry, maps) the records."""
        if self.dry_run:
            self._predict(records)
            return Published()
        outcomes = self._with_retries(records, pipeline)
        counts = dict.fromkeys(RecordStatus, 0)
        for outcome in outcomes.values():
            counts[outcome.status] += 1
        self.say("    " + (", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no record"))
        left = [r for r in records if outcomes[sequence_number(r)].status is RecordStatus.FAILED]
        problems = [f"{_record_name(r)}: {outcomes[sequence_number(r)].reason}" for r in left]
        return Published(problems, [sequence_number(r) for r in left])

    def _with_retries(
        self, records: Sequence[Mapping[str, Any]], pipeline: LifecyclePipeline
    ) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        pending = list(records)
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(random.uniform(0, self.base_delay * 2**attempt))  # noqa: S311
            outcomes.update(pipeline.process(pending))
            pending = [r for r in pending if _retryable(outcomes[sequence_number(r)])]
            if not pending:
                break
        return outcomes

    def _predict(self, records: Sequence[Mapping[str, Any]]) -> None:
        counts = {"published": 0, "skipped": 0, "kept as poison": 0}
        for record in records:
            try:
                event = events_of_record(record)
            except PoisonRecord:
                counts["kept as poison"] += 1
                continue
            counts["published" if event else "skipped"] += 1
        self.say(
            "    would be: "
            + ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            + " (if publishing succeeds)"
        )
