"""The table stream at the adapter edge: a stream record as Lambda delivers it -> a TableChange.

Everything about the record's shape lives here, once: DynamoDB JSON (boto3's TypeDeserializer),
the key layout and the user built from an image (the user repository's), the sequence number, the
time and the request id the API stamped on the item. Which event a change means is the domain's
decision (``domain.events.event_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import ValidationError

from adapters.security_stamps import actor_from_values, stamps_from_values
from adapters.user_items import is_user_key, user_from_values
from domain.event_mapping import events_for
from domain.events import (
    RECONSTRUCTED_SOURCE,
    ChangeKind,
    LifecycleEvent,
    PoisonRecord,
    TableChange,
    event_for,
)
from domain.users import Origin, User

_deserializer = TypeDeserializer()
REPLAY_SINCE = "userflowReplaySince"
"""In a stand-in record a replay builds from the table: the epoch seconds its window starts at,
whose security stamps are published again (userflow/dlq/table_fallback.py)."""


def _values(image: Mapping[str, Any], which: str) -> dict[str, Any]:
    try:
        return {name: _deserializer.deserialize(value) for name, value in image.items()}
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as error:
        raise PoisonRecord(f"{which} is not DynamoDB JSON ({error})") from error


def is_user_record_keys(keys: Mapping[str, Any]) -> bool:
    """Whether a record's keys are a user item's (email claims, sessions... are not)."""
    return is_user_key(_values(keys, "record keys"))


def _user(image: Any, which: str) -> tuple[User, dict[str, Any]]:
    if not image:
        raise PoisonRecord(f"{which} is missing (the stream must carry NEW_AND_OLD_IMAGES)")
    values = _values(image, which) if isinstance(image, Mapping) else {}
    try:
        return user_from_values(values), values
    except (ValidationError, TypeError, ValueError) as error:
        problems = (
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
            )
            if isinstance(error, ValidationError)
            else str(error)
        )
        raise PoisonRecord(f"{which} is not a valid user ({problems})") from error


def _occurred_at(stream: Mapping[str, Any], fallback: datetime) -> datetime:
    """Whole seconds, as DynamoDB Streams rounds its creation time down: a record re-read by a
    replay, whatever its precision, gives the same ``occurred_at`` text as the original."""
    raw = stream.get("ApproximateCreationDateTime")
    if isinstance(raw, datetime):
        moment = raw.astimezone(UTC)
    elif isinstance(raw, int | float | str) and str(raw):
        moment = datetime.fromtimestamp(float(raw), tz=UTC)
    else:
        moment = fallback.astimezone(UTC)
    return moment.replace(microsecond=0)


def table_change(record: Mapping[str, Any]) -> TableChange | None:
    """The change a record reports; None for items that are not users. PoisonRecord when the
    record can never be read, however often it is retried."""
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping) or not stream.get("SequenceNumber"):
        raise PoisonRecord("record has no dynamodb.SequenceNumber")
    keys = _values(stream.get("Keys") or {}, "record keys")
    if not is_user_key(keys):
        return None
    name = record.get("eventName")
    reconstructed = record.get("eventSource") == RECONSTRUCTED_SOURCE
    old: User | None = None
    new: User | None = None
    if name == "INSERT":
        new, values = _user(stream.get("NewImage"), "NewImage")
    elif name == "MODIFY":
        new, values = _user(stream.get("NewImage"), "NewImage")
        if not reconstructed:
            if not stream.get("OldImage"):
                _user(None, "OldImage")
            try:
                old, _ = _user(stream["OldImage"], "OldImage")
            except PoisonRecord:
                old = None  # the item was not a valid user before this change
    elif name == "REMOVE":
        old, values = _user(stream.get("OldImage"), "OldImage")
    else:
        raise PoisonRecord(f"unknown eventName {name!r}")
    changed = new if new is not None else old
    assert changed is not None  # INSERT and MODIFY set new, REMOVE sets old
    request_id = values.get("last_request_id")
    origin = values.get("origin")
    try:
        actor, stamps = actor_from_values(values), stamps_from_values(values)
    except ValueError as error:
        raise PoisonRecord(str(error)) from error
    since = stream.get(REPLAY_SINCE) if reconstructed else None
    return TableChange(
        kind=ChangeKind(name),
        record_id=str(stream["SequenceNumber"]),
        occurred_at=_occurred_at(stream, changed.updated_at),
        old=old,
        new=new,
        request_id=request_id if isinstance(request_id, str) else None,
        reconstructed=reconstructed,
        origin=Origin(origin) if origin in set(Origin) else Origin.REGISTRATION,
        actor=actor,
        stamps=stamps,
        since=datetime.fromtimestamp(float(since), tz=UTC) if since is not None else None,
    )


def event_of_record(record: Mapping[str, Any]) -> LifecycleEvent | None:
    """The lifecycle event a stream record means (None when it means none)."""
    change = table_change(record)
    return None if change is None else event_for(change)


def events_of_record(record: Mapping[str, Any]) -> list[LifecycleEvent]:
    """The events a stream record means (none when subscribers need not hear of it)."""
    change = table_change(record)
    return [] if change is None else events_for(change)
