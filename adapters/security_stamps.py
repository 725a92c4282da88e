"""Security stamps and the actor on the user item (domain/security_events.py): how they are
stored, and the versioned write that the login bookkeeping's security changes go through.

- ``last_actor`` (M: ``type``, ``id``?): who made the item's latest change.
- ``stamp_<DetailType>`` (M: ``version``, ``at``, ``actor``, ``fields`` as JSON): the latest
  security event of that kind, written in the same write as its change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from adapters.dynamodb_throttle import update_if_exists
from adapters.dynamodb_values import attribute_value
from adapters.user_items import change_key_at, iso_timestamp, user_key
from domain.actors import Actor
from domain.event_types import DetailType, SecurityStamp

STAMP_PREFIX = "stamp_"
LAST_ACTOR = "last_actor"
MAX_ATTEMPTS = 5
"""Versioned writes redone on a concurrent change of the item, at most this often."""


ActorOf = Callable[[str], Actor]
"""The actor of a change of the user with this id (the API's caller, an operator's run...)."""


def actor_value(actor: Actor) -> dict[str, Any]:
    return dict(attribute_value(actor.model_dump()))


def stamp_values(stamps: Iterable[SecurityStamp]) -> dict[str, Any]:
    """The item attributes of ``stamps``, by name (DynamoDB JSON)."""
    return {
        f"{STAMP_PREFIX}{stamp.detail_type}": {
            "M": {
                "version": {"N": str(stamp.version)},
                "at": {"S": iso_timestamp(stamp.at)},
                "actor": actor_value(stamp.actor),
                "fields": {"S": json.dumps(dict(stamp.fields), default=str, sort_keys=True)},
            }
        }
        for stamp in stamps
    }


def actor_from_values(values: Mapping[str, Any]) -> Actor:
    """The item's last actor (plain values); the system when the item does not name one.
    ValueError when it is not an actor."""
    raw = values.get(LAST_ACTOR)
    if raw is None:
        return Actor.system()
    try:
        return Actor.model_validate(raw)
    except ValidationError as error:
        raise ValueError(f"{LAST_ACTOR} is not an actor ({error.errors()[0]['msg']})") from error


def stamps_from_values(values: Mapping[str, Any]) -> tuple[SecurityStamp, ...]:
    """The security stamps among an item's plain values."""
    stamps = []
    for name, raw in values.items():
        if not name.startswith(STAMP_PREFIX):
            continue
        try:
            stamps.append(
                SecurityStamp(
                    detail_type=DetailType(name.removeprefix(STAMP_PREFIX)),
                    version=int(raw["version"]),
                    at=datetime.fromisoformat(str(raw["at"]).replace("Z", "+00:00")),
                    actor=Actor.model_validate(raw["actor"]),
                    fields=json.loads(raw["fields"]),
                )
            )
        except (KeyError, TypeError, ValueError) as error:  # ValidationError is a ValueError
            raise ValueError(f"{name} is not a security stamp ({error})") from error
    order = list(DetailType)
    return tuple(sorted(stamps, key=lambda s: (s.version, order.index(s.detail_type))))


@dataclass
class Plan:
    """What a versioned write changes besides the version, its time and its actor."""

    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    stamps: list[SecurityStamp] = field(default_factory=list)


def versioned_write(
    table: str,
    user_id: str,
    read: int,
    planned: Plan,
    *,
    now: datetime,
    actor: Actor,
    request_id: str | None,
) -> dict[str, Any]:
    """The UpdateItem parameters that make ``planned`` the user's change at version ``read + 1``,
    conditional on the item still being at ``read``: alone (``versioned_update``) or in a
    transaction with other items (a cloned passkey's block)."""
    stamps = stamp_values(planned.stamps)
    values = planned.values | {
        ":next": {"N": str(read + 1)},
        ":read": {"N": str(read)},
        ":changed_at": {"S": iso_timestamp(now)},
        ":change_key": {"S": change_key_at(user_id, now)},
        ":actor": actor_value(actor),
    }
    values |= {f":{name}": value for name, value in stamps.items()}
    sets = ["#version = :next", "updated_at = :changed_at", f"{LAST_ACTOR} = :actor"]
    sets.append("GSI2SK = :change_key")  # the updated_since search finds security changes too
    sets += [f"{name} = :{name}" for name in stamps] + planned.sets
    removes = list(planned.removes)
    if request_id is None:
        removes.append("last_request_id")
    else:
        sets.append("last_request_id = :request")
        values[":request"] = {"S": request_id}
    expression = f"SET {', '.join(sets)}"
    if removes:
        expression += f" REMOVE {', '.join(removes)}"
    if planned.adds:
        expression += f" ADD {', '.join(planned.adds)}"
    return {
        "TableName": table,
        "Key": user_key(user_id),
        "UpdateExpression": expression,
        "ConditionExpression": "attribute_exists(PK) AND #version = :read",
        "ExpressionAttributeNames": {"#version": "version"} | planned.names,
        "ExpressionAttributeValues": values,
    }


def versioned_update(
    db: Any,
    table: str,
    user_id: str,
    plan: Callable[[Mapping[str, Any], int], Plan | None],
    *,
    now: datetime,
    actor: Actor,
    request_id: Callable[[], str | None] = lambda: None,
) -> bool:
    """A security change of the login bookkeeping, at the user's next version (its events'
    ids need one): the item is read, ``plan(item, next_version)`` says what to write (None:
    nothing), and the write is conditional on the version read, redone if it changed meanwhile.
    False when the user is gone or there was nothing to write."""
    for _ in range(MAX_ATTEMPTS):
        found = db.get_item(TableName=table, Key=user_key(user_id), ConsistentRead=True)
        item = found.get("Item")
        if item is None:
            return False
        read = int(item["version"]["N"])
        planned = plan(item, read + 1)
        if planned is None:
            return False
        write = versioned_write(
            table, user_id, read, planned, now=now, actor=actor, request_id=request_id()
        )
        if update_if_exists(
            db,
            table,
            write["Key"],
            write["UpdateExpression"],
            write["ExpressionAttributeValues"],
            condition=write["ConditionExpression"],
            names=write["ExpressionAttributeNames"],
        ):
            return True
    raise RuntimeError(f"user {user_id} kept changing: {MAX_ATTEMPTS} attempts lost the race")
