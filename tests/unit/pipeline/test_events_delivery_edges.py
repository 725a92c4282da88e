"""Edges where a lifecycle event could be lost or leak a secret: PutEvents limits and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from adapters.eventbridge_publisher import (
    MAX_REQUEST_BYTES,
    EventBridgePublisher,
    chunks,
    entry_size,
)
from adapters.stream_records import event_of_record
from domain.events import LifecycleEvent
from tests.support.fakes import as_events_client
from tests.support.stream_records import created, stream_record, user_image


def _entry(size: int) -> dict[str, Any]:
    """An entry of exactly ``size`` bytes as EventBridge counts them (Source + DetailType = 2)."""
    return {"Source": "s", "DetailType": "d", "Detail": "x" * (size - 2)}


def _events(count: int) -> list[LifecycleEvent]:
    events = [event_of_record(created(f"u{i}")) for i in range(count)]
    return [event for event in events if event is not None]


class _UnreachableOnSecondCall:
    """PutEvents that accepts the first request, then cannot be reached (network down)."""

    def __init__(self) -> None:
        self.calls = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > 1:
            raise EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com")
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def test_given_entries_totalling_exactly_256_kb_when_chunked_then_they_are_split() -> None:
    """EventBridge: "The total entry size must be less than 256KB"."""
    half = MAX_REQUEST_BYTES // 2

    assert list(chunks([_entry(half), _entry(half)])) == [[0], [1]]


def test_given_one_entry_of_exactly_256_kb_when_published_then_reported_without_a_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _UnreachableOnSecondCall()
    event = _events(1)[0]
    publisher = EventBridgePublisher("bus", as_events_client(client))
    entry = publisher.entry(event)
    overhead = entry_size(entry) - len(entry["Detail"])
    oversized = {**entry, "Detail": "x" * (MAX_REQUEST_BYTES - overhead)}
    assert entry_size(oversized) == MAX_REQUEST_BYTES
    monkeypatch.setattr(publisher, "entry", lambda _: oversized)

    [failure] = publisher.publish([event])

    assert failure.code == "EntryTooLarge"
    assert client.calls == 0


def test_given_network_error_on_a_later_chunk_when_published_then_only_its_events_fail() -> None:
    events = _events(12)
    client = _UnreachableOnSecondCall()

    failures = EventBridgePublisher("bus", as_events_client(client), sleep=lambda _: None).publish(
        events
    )

    assert [f.event.event_id for f in failures] == [e.event_id for e in events[10:]]
    assert {f.code for f in failures} == {"EndpointConnectionError"}


def test_given_password_and_name_change_when_mapped_then_previous_holds_no_secret() -> None:
    old = user_image()
    new = user_image(name="Ada King", version=2, updated_at=datetime(2026, 3, 1, tzinfo=UTC))
    new["password_hash"] = {"S": "scrypt$16384$8$1$salt$newsecrethash"}
    new["sessions_revoked_at"] = {"S": "2026-03-01T00:00:00Z"}

    event = event_of_record(stream_record("MODIFY", new=new, old=old))

    assert event is not None
    detail = json.loads(event.detail_json())
    assert detail["changed_fields"] == ["name"]
    assert detail["previous"] == {"name": "Ada Lovelace"}
    assert "hash" not in event.detail_json()
    assert "sessions_revoked_at" not in event.detail_json()
