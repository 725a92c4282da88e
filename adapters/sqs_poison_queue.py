"""PoisonSink on SQS: keeps a stream record that can never map, with the reason, for operators."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.aws_clients import deferred_client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

POISON_KIND = "userflow.poison-record"
MAX_MESSAGE_BYTES = 1_048_576
# What SQS refuses in a message body (also lone surrogates, which have no UTF-8 form).
FORBIDDEN_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class SqsPoisonQueue:
    def __init__(self, queue_url: str, sqs_client: SQSClient | None = None) -> None:
        self._url = queue_url
        # Made when a poison record comes: most invocations never send one.
        self._sqs = sqs_client or deferred_client("sqs")

    def send(self, record: Mapping[str, Any], reason: str) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "reason": {"DataType": "String", "StringValue": reason[:1000]}
        }
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message_body(record, reason, room=attributes_size(attributes)),
            MessageAttributes=attributes,
        )


def attributes_size(attributes: Mapping[str, MessageAttributeValueTypeDef]) -> int:
    """What string attributes count towards SQS's size limit: name, type and value."""
    return sum(
        len(f"{name}{value['DataType']}{value.get('StringValue', '')}".encode())
        for name, value in attributes.items()
    )


def message_body(record: Mapping[str, Any], reason: str, room: int = 0) -> str:
    """The smallest body SQS takes beside ``room`` bytes of attributes: as UTF-8 (``\\u``
    escapes make an emoji 12 bytes), else escaped (for characters SQS refuses), else without the
    record's images, which replay reads again from the table by the keys kept."""
    for kept in (record, without_images(record)):
        body = {"kind": POISON_KIND, "reason": reason, "record": kept}
        for escaped in (False, True):
            text = json.dumps(body, default=str, ensure_ascii=escaped)
            if sqs_accepts(text, room):
                return text
    raise ValueError("a poison record too large for SQS even without its images")


def without_images(record: Mapping[str, Any]) -> dict[str, Any]:
    stream = {k: v for k, v in record.get("dynamodb", {}).items() if not k.endswith("Image")}
    return {**record, "dynamodb": stream, "imagesOmitted": True}


def sqs_accepts(text: str, room: int = 0) -> bool:
    """Within SQS's size limit, less ``room`` for attributes, and its allowed characters."""
    if FORBIDDEN_CHARACTERS.search(text):
        return False
    return len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES - room
