"""EventBridgePublisher: request limits, per-entry results, backoff, trace header (fake client)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.eventbridge_publisher import EventBridgePublisher, chunks
from adapters.stream_records import event_of_record
from domain.events import LifecycleEvent
from tests.support.fakes import as_events_client
from tests.support.stream_records import created


class FakeEvents:
    """Answers PutEvents from a script of per-call error codes (None = accepted)."""

    def __init__(self, script: list[list[str | None]] | None = None) -> None:
        self.script = script or []
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        codes = self.script.pop(0) if self.script else [None] * len(Entries)
        results = [
            {"ErrorCode": code, "ErrorMessage": "no"} if code else {"EventId": str(i)}
            for i, code in enumerate(codes)
        ]
        return {"FailedEntryCount": sum(1 for c in codes if c), "Entries": results}


def _events(count: int) -> list[LifecycleEvent]:
    events = [event_of_record(created(f"u{i}")) for i in range(count)]
    return [event for event in events if event is not None]


def test_given_entries_near_the_size_limit_when_chunked_then_no_request_exceeds_256_kb() -> None:
    entries = [{"Source": "s", "DetailType": "d", "Detail": "x" * 100_000} for _ in range(5)]

    assert list(chunks(entries)) == [[0, 1], [2, 3], [4]]


def test_given_25_small_entries_when_chunked_then_at_most_ten_per_request() -> None:
    entries = [{"Source": "s", "DetailType": "d", "Detail": "{}"} for _ in range(25)]

    assert [len(c) for c in chunks(entries)] == [10, 10, 5]


def test_given_some_entries_rejected_when_published_then_exactly_those_are_returned() -> None:
    events = _events(3)
    client = FakeEvents([[None, "AccessDeniedException", None]])

    failures = EventBridgePublisher("bus", as_events_client(client)).publish(events)

    assert [(f.event.event_id, f.code) for f in failures] == [
        (events[1].event_id, "AccessDeniedException")
    ]
    assert len(client.calls) == 1


def test_given_throttled_entries_when_published_then_only_they_are_resent_with_growing_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("adapters.eventbridge_publisher.random.uniform", lambda a, b: b)
    sleeps: list[float] = []
    events = _events(3)
    throttled = "ThrottlingException"
    client = FakeEvents([[None, throttled, throttled], [throttled, None], [None]])

    failures = EventBridgePublisher("bus", as_events_client(client), sleep=sleeps.append).publish(
        events
    )

    assert failures == []
    assert [len(call) for call in client.calls] == [3, 2, 1]
    resent = [json.loads(e["Detail"])["event_id"] for e in client.calls[2]]
    assert resent == [events[1].event_id]
    assert sleeps == [0.1, 0.2]


def test_given_throttling_that_persists_when_published_then_reported_after_max_attempts() -> None:
    client = FakeEvents([["ThrottlingException"]] * 4)

    failures = EventBridgePublisher("bus", as_events_client(client), sleep=lambda _: None).publish(
        _events(1)
    )

    assert [f.code for f in failures] == ["ThrottlingException"]
    assert len(client.calls) == 4


def test_given_lambda_trace_header_when_published_then_entries_carry_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    client = FakeEvents()

    EventBridgePublisher("bus", as_events_client(client)).publish(_events(1))

    [entry] = client.calls[0]
    assert entry["TraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert entry["EventBusName"] == "bus"
    assert entry["Source"] == "userflow.users"
    assert entry["DetailType"] == "UserCreated"
