"""Turns a batch of stream records into published events; shared by the Lambda and the replay CLI.

All records are mapped first and published together (PutEvents takes ten at a time), then each
record learns its own outcome, so only records whose events failed are retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.event_mapping import events_for
from domain.events import LifecycleEvent, PoisonRecord
from domain.ports import EventPublisher, PoisonSink, RecordReader

# Sealed TOTP secrets (and pending ones) and recovery-code hashes too (domain/mfa_state.py).
SECRET_MARKERS = ("password", "hash", "secret", "token", "totp", "recovery_code")
DEFERRED = "poison, kept once the records before it are published"


class RecordStatus(StrEnum):
    """What became of one stream record in the pipeline."""

    PUBLISHED = "published"
    SKIPPED = "skipped"  # nothing subscribers need to hear about
    POISON = "poison"  # will never map; kept in the poison DLQ
    FAILED = "failed"  # to be retried


@dataclass(frozen=True)
class Outcome:
    status: RecordStatus
    events: tuple[LifecycleEvent, ...] = ()
    """The record's events (its lifecycle event, then its security events); failed: the ones
    that were not published."""
    reason: str | None = None


def without_secrets(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without secret-looking attributes in its images (people read DLQs)."""
    copy = dict(record)
    stream = dict(copy.get("dynamodb") or {})
    for image_name in ("NewImage", "OldImage"):
        image = stream.get(image_name)
        if isinstance(image, Mapping):
            stream[image_name] = {
                name: value
                for name, value in image.items()
                if not any(marker in name.lower() for marker in SECRET_MARKERS)
            }
    copy["dynamodb"] = stream
    return copy


def sequence_number(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


class LifecyclePipeline:
    def __init__(
        self, publisher: EventPublisher, read: RecordReader, poison_sink: PoisonSink | None = None
    ) -> None:
        """``read``: the adapter edge's record reader. Without a poison sink, poison records are
        only reported (replay keeps their message)."""
        self._publisher = publisher
        self._read = read
        self._poison_sink = poison_sink

    def _map(self, record: Mapping[str, Any]) -> Outcome:
        try:
            change = self._read(record)
            events = () if change is None else tuple(events_for(change))
        except PoisonRecord as error:
            return Outcome(RecordStatus.POISON, reason=str(error))
        except Exception as error:  # deterministic: retrying the same record cannot help
            return Outcome(
                RecordStatus.POISON, reason=f"unexpected {type(error).__name__}: {error}"
            )
        if not events:
            return Outcome(RecordStatus.SKIPPED)
        return Outcome(RecordStatus.PUBLISHED, events=events)

    def _keep_poison(self, record: Mapping[str, Any], outcome: Outcome) -> Outcome:
        if self._poison_sink is None:
            return outcome
        try:
            self._poison_sink.send(without_secrets(record), outcome.reason or "poison")
        except Exception as error:  # the record must not be lost: retry it
            return Outcome(RecordStatus.FAILED, reason=f"poison queue unavailable: {error}")
        return outcome

    def process(self, records: Sequence[Mapping[str, Any]]) -> dict[str, Outcome]:
        """Outcome of every record, by sequence number.

        A poison record after a failed one is not kept yet but failed too: Lambda re-delivers
        everything from the lowest failed record on, so keeping it now would keep it again on
        every retry. One poison record, one message in the poison queue.
        """
        outcomes = {sequence_number(record): self._map(record) for record in records}
        events = [event for o in outcomes.values() for event in o.events]
        for failure in self._publisher.publish(events) if events else []:
            failed = outcomes[failure.event.record_id]
            outcomes[failure.event.record_id] = Outcome(
                RecordStatus.FAILED,
                events=(
                    *(failed.events if failed.status is RecordStatus.FAILED else ()),
                    failure.event,
                ),
                reason=f"{failure.code}: {failure.message}",
            )
        failed_before = False
        for record in records:
            seq = sequence_number(record)
            if outcomes[seq].status is RecordStatus.POISON:
                outcomes[seq] = (
                    Outcome(RecordStatus.FAILED, reason=f"{DEFERRED}: {outcomes[seq].reason}")
                    if failed_before
                    else self._keep_poison(record, outcomes[seq])
                )
            failed_before = failed_before or outcomes[seq].status is RecordStatus.FAILED
        return outcomes
