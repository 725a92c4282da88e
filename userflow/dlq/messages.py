"""A dead-letter message read once, from its body and attributes, into the kind it is
(userflow/dlq/dead_letters.py): never an exception, whatever the body.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.sqs_poison_queue import POISON_KIND
from domain.webhook_deliveries import Delivery
from userflow.dlq.dead_letters import (
    DeadLetter,
    FailedEvent,
    PoisonMessage,
    StreamBatch,
    UndeliveredEvent,
    Unrecognised,
    WebhookDelivery,
)
from userflow.dlq.table_fallback import parse_time

SequenceNumber = Annotated[str, Field(pattern=r"^[0-9]{1,40}$")]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class _BatchInfo(_Shape):
    """What Lambda always writes in an on-failure record, and replay needs of it."""

    shardId: str  # Lambda's names
    streamArn: str
    startSequenceNumber: SequenceNumber
    endSequenceNumber: SequenceNumber
    approximateArrivalOfFirstRecord: str | float
    approximateArrivalOfLastRecord: str | float

    @field_validator("approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord")
    @classmethod
    def _a_time(cls, value: str | float) -> str | float:
        parse_time(value)  # ValueError/OverflowError: not a time
        return value


class _BatchBody(_Shape):
    DDBStreamBatchInfo: _BatchInfo
    userflowPendingSequenceNumbers: list[SequenceNumber] | None = Field(None, min_length=1)
    userflowPendingUsers: list[str] | None = None


class _StreamPart(_Shape):
    Keys: dict[str, dict[str, Any]] = {}


class _Record(_Shape):
    dynamodb: _StreamPart


class _PoisonBody(_Shape):
    record: _Record
    reason: str = ""


class _DeliveryFields(BaseModel):
    """What the delivery function needs of a delivery (domain/webhook_deliveries.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint_id: str = Field(min_length=1)
    message_id: str = Field(min_length=1)
    detail_type: str = Field(min_length=1)
    payload: str
    attempt: int = Field(ge=1)
    not_before: float | int
    last_error: str | None = None


class _DeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery: _DeliveryFields


_KIND_NAMES = {
    "DDBStreamBatchInfo": "stream batch",
    "delivery": "webhook delivery",
}


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message.get("MessageAttributes", {}).get(name, {}).get("StringValue", ""))


def _problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return f"{where}: {first['msg']}"
    return str(error)


def read_message(message: dict[str, Any]) -> DeadLetter:
    """What the message is; never raises, whatever its body."""
    message_id = str(message.get("MessageId", "?"))
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        body = None
    try:
        known = _of_own_shape(message, body)
    except (ValidationError, ValueError, OverflowError) as error:
        kind = next((name for key, name in _KIND_NAMES.items() if key in body), "poison record")
        return Unrecognised(message_id, f"a {kind} this tool cannot use ({_problem(error)})")
    if known is None:
        known = _event(message, body)
    if known is not None:
        return known
    why = (
        "the body is not JSON"
        if body is None
        else "no known kind: not a stream batch, a poison record, a webhook delivery, or an event"
    )
    return Unrecognised(message_id, why)


def _of_own_shape(message: dict[str, Any], body: Any) -> DeadLetter | None:
    """The kinds this stack writes; ValidationError for one in a shape the tools cannot use."""
    if isinstance(body, dict) and "DDBStreamBatchInfo" in body:
        _BatchBody.model_validate(body)
        return StreamBatch(body)
    if isinstance(body, dict) and body.get("kind") == POISON_KIND:
        _PoisonBody.model_validate(body)
        return PoisonMessage(body["record"], str(body.get("reason", "")))
    if isinstance(body, dict) and "delivery" in body:
        fields = _DeliveryBody.model_validate(body).delivery.model_dump()
        return WebhookDelivery(Delivery(**fields), _attribute(message, "reason"))
    return None


def _event(message: dict[str, Any], body: Any) -> DeadLetter | None:
    """An event EventBridge could not deliver (its attributes say where to), or one a queue's
    consumer failed on (an EventBridge event, alone)."""
    if _attribute(message, "TARGET_ARN"):
        failure = f"{_attribute(message, 'ERROR_CODE')} {_attribute(message, 'ERROR_MESSAGE')}"
        body_text = str(message.get("Body", ""))
        return UndeliveredEvent(body_text, _attribute(message, "TARGET_ARN"), failure.strip())
    if isinstance(body, dict) and {"detail-type", "source", "detail"} <= body.keys():
        return FailedEvent(str(message["Body"]))
    return None
