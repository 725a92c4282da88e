"""Who made a change (docs/events.md, "Who did it"): the user themself, an admin (by id), an
operator's CLI run, or the system (the login throttle, a detected token reuse, an import).

Stored on the user item with the change it made (``last_actor``), as ``last_request_id`` is, so
that every event of that change names it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer

ACTOR_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Who made the change: the user themself, an admin (id: the admin's user id),"
    " an operator's CLI run (id: who ran it), or the system (no id)",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["user", "admin", "operator", "system"]},
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
    },
}


class ActorType(StrEnum):
    USER = "user"
    ADMIN = "admin"
    OPERATOR = "operator"
    SYSTEM = "system"


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ActorType
    id: str | None = Field(default=None, min_length=1, max_length=256)

    @model_serializer(mode="plain")
    def _without_absent_id(self) -> dict[str, str]:
        """``{"type": "system"}``, never ``"id": null``."""
        return {"type": str(self.type)} | ({"id": self.id} if self.id is not None else {})

    @classmethod
    def system(cls) -> Actor:
        return cls(type=ActorType.SYSTEM)

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls(type=ActorType.USER, id=user_id)


def actor_of_caller(caller_id: str | None, user_id: str) -> Actor:
    """An API request's actor on ``user_id``: the user themself when no one signed in (login,
    reset and verification links) or when it is their own account, else the admin calling."""
    if caller_id is None or caller_id == user_id:
        return Actor.user(user_id)
    return Actor(type=ActorType.ADMIN, id=caller_id)
