"""User lifecycle events, and the pure decision of which event a table change means.

The adapter edge (``adapters.stream_records``) reads a stream record into a ``TableChange``;
``event_for`` decides what subscribers see: INSERT -> UserCreated, MODIFY of a public field ->
UserUpdated, REMOVE -> UserDeleted. The security events of a change (``domain.security_events``)
come on top (``domain.event_mapping.events_for``). Everything published is built from
``domain.users.User``, so secrets never leave; its shape is domain/event_details.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.actors import Actor
from domain.event_details import COMPARED_FIELDS, DETAIL_MODELS, EventDetail

# Re-exported: subscribers and tests name the types where the events are.
from domain.event_types import DetailType as DetailType  # noqa: PLC0414
from domain.event_types import SecurityStamp as SecurityStamp  # noqa: PLC0414
from domain.metadata import METADATA_FIELDS, changed_keys
from domain.users import Origin, User

EVENT_SOURCE = "userflow.users"
# ``eventSource`` of the stand-in records a replay builds from table items (Lambda's is
# "aws:dynamodb"): their events are marked reconstructed.
RECONSTRUCTED_SOURCE = "userflow:table"


class ChangeKind(StrEnum):
    """What the table stream says happened to an item."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


LIFECYCLE_TYPES = (DetailType.USER_CREATED, DetailType.USER_UPDATED, DetailType.USER_DELETED)


@dataclass(frozen=True)
class LifecycleEvent:
    """One event for the bus; ``record_id`` is the stream sequence number that produced it."""

    detail_type: DetailType
    detail: EventDetail
    record_id: str
    _json: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Serialized once, when made: a detail that cannot be (a lone surrogate in a name) makes
        # its record poison where it is mapped, rather than failing its whole batch at publishing.
        object.__setattr__(
            self, "_json", self.detail.model_dump_json(exclude=self.detail.omitted())
        )

    @property
    def event_id(self) -> str:
        return self.detail.event_id

    def detail_json(self) -> str:
        return self._json


class PoisonRecord(ValueError):
    """A record that can never become an event, however often it is retried."""


@dataclass(frozen=True)
class PublishFailure:
    event: LifecycleEvent
    code: str
    message: str


@dataclass(frozen=True)
class TableChange:
    """One write to a user item, as the table stream reported it."""

    kind: ChangeKind
    record_id: str
    """The stream sequence number: outcomes and retries are keyed on it."""
    occurred_at: datetime
    old: User | None
    """Before the change; None on INSERT, and when the item was not a valid user before."""
    new: User | None
    """After the change; None on REMOVE."""
    request_id: str | None = None
    reconstructed: bool = False
    """Rebuilt from the table's current item by a replay: what changed is unknown."""
    origin: Origin = Origin.REGISTRATION
    """How the user came to be (the item's ``origin``; meaningful on INSERT)."""
    actor: Actor = field(default_factory=Actor.system)
    """Who made the change (``last_actor`` on the item); the system when the item does not say."""
    stamps: tuple[SecurityStamp, ...] = ()
    """The item's security stamps after the change (before it, for a REMOVE)."""
    since: datetime | None = None
    """For a replay from the table: the start of the window whose stamps are published again."""


def lifecycle_event_id(detail_type: str, user_id: str, version: int) -> str:
    """The id of the event of one kind about one version of a user, a UUID-shaped SHA-256.

    Every change of a user takes the next ``user.version`` (docs/events.md, "Ordering and
    duplicates"), so (user id, version) names one change whatever path publishes it: the stream
    processor, a replay re-reading the stream, or one rebuilding the event from the table's item;
    retries and replays repeat it. The detail-type keeps distinct events of one change apart (a
    later PasswordChanged or EmailChanged may be published for the same version as its UserUpdated).
    Two writes at one version (a hand-made fix that did not bump it) share the id: the subscriber
    rule, which keeps only a greater version, drops the second either way."""
    material = "|".join([EVENT_SOURCE, detail_type, user_id, str(version)])
    digest = hashlib.sha256(material.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _changes(old: User, new: User) -> dict[str, Any]:
    """Changed public fields with their previous values; custom attributes by key."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    changes: dict[str, Any] = {}
    for name in COMPARED_FIELDS:
        if name in METADATA_FIELDS:
            for key in changed_keys(before[name], after[name]):
                changes[f"{name}.{key}"] = before[name].get(key)
        elif before[name] != after[name]:
            changes[name] = before[name]
    return changes


def _decide(change: TableChange) -> tuple[DetailType, User, dict[str, Any]] | None:
    if change.kind is ChangeKind.REMOVE and change.old is not None:
        return DetailType.USER_DELETED, change.old, {}
    if change.new is None:
        raise PoisonRecord(f"{change.kind} without the user it changed")
    if change.kind is ChangeKind.INSERT:
        return DetailType.USER_CREATED, change.new, {"origin": change.origin}
    if change.reconstructed:
        # What changed is unknown: the event says so (no changed_fields, no previous).
        return DetailType.USER_UPDATED, change.new, {}
    if change.old is None:
        # A repair of an item that never was a valid user (its INSERT was poison): subscribers
        # never saw it, so this is its creation, not an update from nonsense.
        return DetailType.USER_CREATED, change.new, {}
    previous = _changes(change.old, change.new)
    if not previous:
        return None
    return (
        DetailType.USER_UPDATED,
        change.new,
        {
            "changed_fields": list(previous),
            "previous": previous,
        },
    )


def event_for(change: TableChange) -> LifecycleEvent | None:
    """The event a change means, None when subscribers need not hear of it."""
    decided = _decide(change)
    if decided is None:
        return None
    detail_type, user, extra = decided
    detail = DETAIL_MODELS[detail_type].model_validate(
        {
            "event_id": lifecycle_event_id(detail_type, user.id, user.version),
            "occurred_at": change.occurred_at,
            "user": user,
            "email_domain": user.email.rpartition("@")[2],
            "display_name": user.name,
            "account_age_days": max(0, (change.occurred_at - user.created_at).days),
            "correlation_id": change.request_id,
            "actor": change.actor,
            "reconstructed": change.reconstructed,
            **extra,
        }
    )
    return LifecycleEvent(detail_type, detail, change.record_id)
