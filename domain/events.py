"""User lifecycle events, and the pure mapping from a table stream record to one of them.

A stream record arrives as Lambda delivers it (DynamoDB JSON images). The mapping decides what
subscribers see: INSERT -> UserCreated, MODIFY of a public field -> UserUpdated, REMOVE ->
UserDeleted. Everything published is built from ``domain.users.User``, so secrets never leave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)

from domain.event_dynamodb_json import image_values
from domain.users import PUBLIC_FIELDS, User

EVENT_SOURCE = "userflow.users"
EVENT_VERSION: Literal[1] = 1
USER_KEY_PREFIX = "USER#"
USER_SORT_KEY = "PROFILE"
# ``eventSource`` of the stand-in records a replay builds from table items (Lambda's is
# "aws:dynamodb"): their events are marked reconstructed.
RECONSTRUCTED_SOURCE = "userflow:table"
# Bumped by every write, so comparing them would turn any MODIFY into an update.
_BOOKKEEPING_FIELDS = ("version", "updated_at")
COMPARED_FIELDS = tuple(f for f in PUBLIC_FIELDS if f not in _BOOKKEEPING_FIELDS)


class DetailType(StrEnum):
    USER_CREATED = "UserCreated"
    USER_UPDATED = "UserUpdated"
    USER_DELETED = "UserDeleted"


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcTimestamp = Annotated[
    datetime,
    PlainSerializer(_iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class _Detail(BaseModel):
    # Every field is always published, defaults included, so the schema requires them all.
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )

    event_id: str = Field(description="Stable for one table change across retries and replays")
    event_version: Literal[1] = EVENT_VERSION
    occurred_at: UtcTimestamp = Field(description="When the table change happened (UTC)")
    user: User
    email_domain: str
    display_name: str
    account_age_days: int = Field(ge=0, description="Whole days from created_at to occurred_at")
    correlation_id: str | None = Field(
        default=None,
        description="Id of the request that made the change (the API's apigw-requestid header,"
        " or the operator command's request id), if known",
    )
    reconstructed: bool = Field(
        default=False,
        description="Rebuilt by a replay from the table's current item because the stream no"
        " longer held the change; event_id is stable per user and version",
    )


class UserCreatedDetail(_Detail):
    pass


class UserUpdatedDetail(_Detail):
    changed_fields: list[str] = Field(
        min_length=1,
        description="Public fields that changed",
        json_schema_extra={"items": {"enum": list(COMPARED_FIELDS)}},
    )
    previous: dict[str, Any] = Field(
        description="Values of the changed fields before the change",
        json_schema_extra={"propertyNames": {"enum": list(COMPARED_FIELDS)}},
    )


class UserDeletedDetail(_Detail):
    """``user`` holds the last known public fields."""


DETAIL_MODELS: dict[DetailType, type[_Detail]] = {
    DetailType.USER_CREATED: UserCreatedDetail,
    DetailType.USER_UPDATED: UserUpdatedDetail,
    DetailType.USER_DELETED: UserDeletedDetail,
}


@dataclass(frozen=True)
class LifecycleEvent:
    """One event for the bus; ``record_id`` is the stream sequence number that produced it."""

    detail_type: DetailType
    detail: _Detail
    record_id: str

    @property
    def event_id(self) -> str:
        return self.detail.event_id

    def detail_json(self) -> str:
        return self.detail.model_dump_json()


class PoisonRecord(ValueError):
    """A record that can never become an event, however often it is retried."""


class EventPublisher(Protocol):
    def publish(self, events: Sequence[LifecycleEvent]) -> list[PublishFailure]:
        """Publish all events; return those that could not be published (to be retried)."""


class PoisonSink(Protocol):
    def send(self, record: Mapping[str, Any], reason: str) -> None:
        """Keep a record that will never map, with its content, for an operator."""


@dataclass(frozen=True)
class PublishFailure:
    event: LifecycleEvent
    code: str
    message: str


def is_user_item(keys: Mapping[str, Any]) -> bool:
    plain = image_values(dict(keys))
    pk, sk = plain.get("PK"), plain.get("SK")
    return isinstance(pk, str) and pk.startswith(USER_KEY_PREFIX) and sk == USER_SORT_KEY


def event_id_for(record: Mapping[str, Any]) -> str:
    """Hash of table, keys and sequence number: the same change always gets the same id."""
    stream = record.get("dynamodb") or {}
    table = str(record.get("eventSourceARN", "")).split("/stream/")[0]
    keys = image_values(stream.get("Keys") or {})
    material = "|".join(
        [table, *(f"{name}={keys[name]}" for name in sorted(keys)), str(stream["SequenceNumber"])]
    )
    digest = hashlib.sha256(material.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


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


def _user(image: Mapping[str, Any] | None, which: str) -> tuple[User, dict[str, Any]]:
    if not image:
        raise PoisonRecord(f"{which} is missing (the stream must carry NEW_AND_OLD_IMAGES)")
    try:
        plain = image_values(dict(image))
        user = User.model_validate({f: plain[f] for f in User.model_fields if f in plain})
    except (ValueError, TypeError, ValidationError) as error:
        problems = (
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
            )
            if isinstance(error, ValidationError)
            else str(error)
        )
        raise PoisonRecord(f"{which} is not a valid user ({problems})") from error
    return user, plain


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Changed public fields with their previous values."""
    return {f: old.get(f) for f in COMPARED_FIELDS if old.get(f) != new.get(f)}


def map_stream_record(record: Mapping[str, Any]) -> LifecycleEvent | None:
    """The event a stream record means, None when subscribers need not hear of it.

    Raises PoisonRecord when the record can never be mapped.
    """
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping) or not stream.get("SequenceNumber"):
        raise PoisonRecord("record has no dynamodb.SequenceNumber")
    try:
        if not is_user_item(stream.get("Keys") or {}):
            return None
    except ValueError as error:
        raise PoisonRecord(f"record keys are not DynamoDB JSON ({error})") from error
    name = record.get("eventName")
    extra: dict[str, Any] = {}
    if name == "INSERT":
        detail_type = DetailType.USER_CREATED
        user, plain = _user(stream.get("NewImage"), "NewImage")
    elif name == "MODIFY" and record.get("eventSource") == RECONSTRUCTED_SOURCE:
        # What changed is unknown: every field counts as changed, no previous value is claimed.
        detail_type = DetailType.USER_UPDATED
        user, plain = _user(stream.get("NewImage"), "NewImage")
        extra = {"changed_fields": list(COMPARED_FIELDS), "previous": {}}
    elif name == "MODIFY":
        user, plain = _user(stream.get("NewImage"), "NewImage")
        if not stream.get("OldImage"):
            raise PoisonRecord("OldImage is missing (the stream must carry NEW_AND_OLD_IMAGES)")
        try:
            _user(stream.get("OldImage"), "OldImage")
        except PoisonRecord:
            # A repair of an item that never was a valid user (its INSERT was poison):
            # subscribers never saw it, so this is its creation, not an update from nonsense.
            detail_type = DetailType.USER_CREATED
        else:
            detail_type = DetailType.USER_UPDATED
            previous = _changes(image_values(dict(stream["OldImage"])), plain)
            if not previous:
                return None
            extra = {"changed_fields": list(previous), "previous": previous}
    elif name == "REMOVE":
        detail_type = DetailType.USER_DELETED
        user, plain = _user(stream.get("OldImage"), "OldImage")
    else:
        raise PoisonRecord(f"unknown eventName {name!r}")
    occurred_at = _occurred_at(stream, user.updated_at)
    request_id = plain.get("last_request_id")
    detail = DETAIL_MODELS[detail_type].model_validate(
        {
            "event_id": event_id_for(record),
            "occurred_at": occurred_at,
            "user": user,
            "email_domain": user.email.rpartition("@")[2],
            "display_name": user.name,
            "account_age_days": max(0, (occurred_at - user.created_at).days),
            "correlation_id": request_id if isinstance(request_id, str) else None,
            "reconstructed": record.get("eventSource") == RECONSTRUCTED_SOURCE,
            **extra,
        }
    )
    return LifecycleEvent(detail_type, detail, str(stream["SequenceNumber"]))
