"""The published shape of the lifecycle events: the ``detail`` of UserCreated, UserUpdated and
UserDeleted (docs/events.md; the committed schemas are generated from these models). Which event
a table change means is decided in domain/events.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from domain.actors import ACTOR_JSON_SCHEMA, Actor
from domain.event_types import DetailType
from domain.metadata import METADATA_FIELDS
from domain.users import PUBLIC_FIELDS, Origin, User

EVENT_VERSION: Literal[1] = 1
# Bumped by every write, so comparing them would turn any MODIFY into an update.
_BOOKKEEPING_FIELDS = ("version", "updated_at")
COMPARED_FIELDS = tuple(f for f in PUBLIC_FIELDS if f not in _BOOKKEEPING_FIELDS)
# A change to a custom attribute is named by its key: ``metadata.plan`` (top-level keys only).
CHANGED_FIELD_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": list(COMPARED_FIELDS)},
        {"pattern": rf"^({'|'.join(METADATA_FIELDS)})\..+$"},
    ]
}


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcTimestamp = Annotated[
    datetime,
    PlainSerializer(_iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class EventDetail(BaseModel):
    # Every field is always published, defaults included, so the schema requires them all.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_serialization_defaults_required=True,
        defer_build=True,
    )

    event_id: str = Field(
        description="Stable for one change across retries and replays, rebuilt events included:"
        " derived from the detail-type, the user id and user.version (lifecycle_event_id)"
    )
    event_version: Literal[1] = EVENT_VERSION
    occurred_at: UtcTimestamp = Field(description="When the table change happened (UTC)")
    user: User
    actor: Annotated[Actor, WithJsonSchema(ACTOR_JSON_SCHEMA, mode="serialization")] = Field(
        description="Who made the change (stored on the item with it, as last_actor)"
    )
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
        " longer held the change; event_id is the one the change had (or would have had)",
    )

    def omitted(self) -> set[str]:
        """Fields left out of the published detail (none but where a subclass says)."""
        return set()


class UserCreatedDetail(EventDetail):
    origin: Origin = Field(
        default=Origin.REGISTRATION,
        description="registration (signed up here), import (`userflow users import`) or "
        "migration (moved from another user pool at first login)",
    )


_CHANGE_FIELDS = ("changed_fields", "previous")


def _change_fields_schema(schema: dict[str, Any]) -> None:
    """Required unless reconstructed; absent when reconstructed (what changed is unknown)."""
    schema["required"] = [name for name in schema["required"] if name not in _CHANGE_FIELDS]
    for name in _CHANGE_FIELDS:
        schema["properties"][name].pop("default")  # never published as null
    schema["if"] = {"properties": {"reconstructed": {"const": False}}}
    schema["then"] = {"required": list(_CHANGE_FIELDS)}
    schema["else"] = {"not": {"anyOf": [{"required": [name]} for name in _CHANGE_FIELDS]}}


class UserUpdatedDetail(EventDetail):
    """A rebuilt update (``reconstructed``) cannot know what changed: it has neither
    ``changed_fields`` nor ``previous``, rather than claim that everything changed."""

    model_config = ConfigDict(json_schema_extra=_change_fields_schema)

    changed_fields: Annotated[list[str], Field(min_length=1)] | SkipJsonSchema[None] = Field(
        default=None,
        description="Public fields that changed, a custom attribute by its key "
        "(metadata.plan); absent when reconstructed",
        json_schema_extra={"items": CHANGED_FIELD_SCHEMA},
    )
    previous: dict[str, Any] | SkipJsonSchema[None] = Field(
        default=None,
        description="Values of the changed fields before the change (null: the key was "
        "absent); absent when reconstructed",
        json_schema_extra={"propertyNames": CHANGED_FIELD_SCHEMA},
    )

    @model_validator(mode="after")
    def _known_unless_reconstructed(self) -> UserUpdatedDetail:
        known = self.changed_fields is not None and self.previous is not None
        if known == self.reconstructed:
            raise ValueError("changed_fields and previous: given unless reconstructed, never both")
        return self

    def omitted(self) -> set[str]:
        return set(_CHANGE_FIELDS) if self.reconstructed else set()


class UserDeletedDetail(EventDetail):
    """``user`` holds the last known public fields."""


DETAIL_MODELS: dict[DetailType, type[EventDetail]] = {
    DetailType.USER_CREATED: UserCreatedDetail,
    DetailType.USER_UPDATED: UserUpdatedDetail,
    DetailType.USER_DELETED: UserDeletedDetail,
}
