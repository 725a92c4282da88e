"""Pydantic models of every Userflow event (the whole EventBridge event, as a webhook's body
and an SQS subscriber's message carry it). They are tested against the JSON Schemas committed in
the Userflow repository (``schemas/``): every field there is here, with the same requirements.

Unknown fields are allowed (a new optional field is not a breaking change); ``event_version``
is bumped on a breaking one.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

SOURCE = "userflow.users"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class ActorType(StrEnum):
    USER = "user"
    ADMIN = "admin"
    OPERATOR = "operator"
    SYSTEM = "system"


class Actor(_Model):
    """Who made the change: the user, an admin (``id``: their user id), an operator's CLI run
    (``id``: their login) or the system (no ``id``)."""

    type: ActorType
    id: str | None = None


class User(_Model):
    """The user's public fields at ``version`` (never a hash, token or secret)."""

    id: str
    email: str
    email_verified: bool
    name: str
    phone: str | None
    locale: str | None
    timezone: str | None
    passkey_count: int
    mfa_enabled: bool
    metadata: dict[str, Any] = {}
    """Custom attributes the user writes."""
    app_metadata: dict[str, Any] = {}
    """Custom attributes only admins and operators write."""
    roles: tuple[str, ...]
    status: Literal["active", "disabled"]
    version: int
    created_at: datetime
    updated_at: datetime


class Detail(_Model):
    """What every event's ``detail`` has."""

    event_id: str
    event_version: Literal[1]
    occurred_at: datetime
    user: User
    actor: Actor
    email_domain: str
    display_name: str
    account_age_days: int
    correlation_id: str | None
    reconstructed: bool


class UserCreatedDetail(Detail):
    origin: Literal["registration", "import", "migration"]
    """How the user came to be: signed up, imported, or moved from another user pool."""


class UserUpdatedDetail(Detail):
    """``changed_fields`` and ``previous`` are absent when ``reconstructed``."""

    changed_fields: list[str] | None = None
    previous: dict[str, Any] | None = None


class UserDeletedDetail(Detail):
    pass


class PasswordChangedDetail(Detail):
    reason: Literal["change", "reset", "removed"]


class EmailVerifiedDetail(Detail):
    pass


class EmailChangedDetail(Detail):
    old_email: str
    new_email: str


class SessionsRevokedDetail(Detail):
    scope: Literal["family", "all"]
    reason: Literal[
        "logout", "reset", "reuse_detected", "admin", "disable", "password_change", "passkey_cloned"
    ]


class AccountLockedDetail(Detail):
    locked_until: datetime


class AccountUnlockedDetail(Detail):
    pass


class UserDisabledDetail(Detail):
    pass


class UserEnabledDetail(Detail):
    pass


class RoleGrantedDetail(Detail):
    roles: list[str]


class RoleRevokedDetail(Detail):
    roles: list[str]


class MfaEnabledDetail(Detail):
    pass


class MfaDisabledDetail(Detail):
    pass


class RecoveryCodeUsedDetail(Detail):
    remaining: int


class PasskeyAddedDetail(Detail):
    pass


class PasskeyRemovedDetail(Detail):
    pass


DETAILS: dict[str, type[Detail]] = {
    "UserCreated": UserCreatedDetail,
    "UserUpdated": UserUpdatedDetail,
    "UserDeleted": UserDeletedDetail,
    "PasswordChanged": PasswordChangedDetail,
    "EmailVerified": EmailVerifiedDetail,
    "EmailChanged": EmailChangedDetail,
    "SessionsRevoked": SessionsRevokedDetail,
    "AccountLocked": AccountLockedDetail,
    "AccountUnlocked": AccountUnlockedDetail,
    "UserDisabled": UserDisabledDetail,
    "UserEnabled": UserEnabledDetail,
    "RoleGranted": RoleGrantedDetail,
    "RoleRevoked": RoleRevokedDetail,
    "MfaEnabled": MfaEnabledDetail,
    "MfaDisabled": MfaDisabledDetail,
    "RecoveryCodeUsed": RecoveryCodeUsedDetail,
    "PasskeyAdded": PasskeyAddedDetail,
    "PasskeyRemoved": PasskeyRemovedDetail,
}
"""Each detail-type's model."""


class Event(_Model):
    """A whole EventBridge event (``detail-type`` is ``detail_type`` here)."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    detail_type: str = Field(alias="detail-type")
    source: Literal["userflow.users"]
    account: str | None = None
    time: datetime
    region: str | None = None
    resources: list[str] = Field(default_factory=list)
    detail: Detail


def _event_model(detail_type: str, detail: type[Detail]) -> type[Event]:
    fields: dict[str, Any] = {
        "detail_type": (Literal[detail_type], Field(alias="detail-type")),
        "detail": (detail, ...),
    }
    return create_model(f"{detail_type}Event", __base__=Event, **fields)


EVENTS: dict[str, type[Event]] = {name: _event_model(name, d) for name, d in DETAILS.items()}
"""The event model of each detail-type."""


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """The typed event (an ``EVENTS[detail-type]``) of a whole EventBridge event: a webhook's
    body, an SQS message's body, or its parsed JSON. ValueError for an unknown detail-type or a
    body that is not such an event (pydantic's ValidationError is a ValueError)."""
    raw = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(raw, dict):
        raise ValueError("an event is a JSON object")
    model = EVENTS.get(str(raw.get("detail-type")))
    if model is None:
        raise ValueError(f"unknown detail-type {raw.get('detail-type')!r}")
    return model.model_validate(raw)
