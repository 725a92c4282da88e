"""What a poison record becomes as an SQS message body: all of it when SQS takes it, else as
much as it takes (adapters/sqs_poison_queue.py)."""

from __future__ import annotations

import json
from typing import Any

from adapters.sqs_poison_queue import (
    MAX_MESSAGE_BYTES,
    attributes_size,
    message_body,
    sqs_accepts,
)
from tests.support.stream_records import created


def _record(**image: Any) -> dict[str, Any]:
    record = created("u1")
    record["dynamodb"]["NewImage"].update(image)
    return record


def test_given_non_ascii_text_when_kept_then_it_stays_utf8_not_escaped() -> None:
    body = message_body(_record(bio={"S": "Zoë \U0001f600"}), "bad")

    assert "Zoë \U0001f600" in body
    assert json.loads(body)["record"]["dynamodb"]["NewImage"]["bio"]["S"] == "Zoë \U0001f600"


def test_given_characters_sqs_refuses_when_kept_then_they_travel_escaped() -> None:
    for text in ("\ufffe", "\uffff", "lone \ud800"):
        body = message_body(_record(bio={"S": text}), "bad")

        assert sqs_accepts(body)
        assert body.isascii()
        assert json.loads(body)["record"]["dynamodb"]["NewImage"]["bio"]["S"] == text


def test_given_a_record_too_large_for_sqs_when_kept_then_its_keys_stay_and_images_go() -> None:
    record = _record(bio={"S": "x" * (MAX_MESSAGE_BYTES + 1)})

    kept = json.loads(message_body(record, "too big"))

    assert kept["record"]["imagesOmitted"] is True
    assert kept["record"]["dynamodb"]["Keys"] == record["dynamodb"]["Keys"]
    assert kept["record"]["dynamodb"]["SequenceNumber"] == record["dynamodb"]["SequenceNumber"]
    assert "NewImage" not in kept["record"]["dynamodb"]


def test_given_attributes_beside_the_body_when_kept_then_body_and_attributes_fit_together() -> None:
    frame = len(message_body(_record(bio={"S": ""}), "bad"))
    record = _record(bio={"S": "x" * (MAX_MESSAGE_BYTES - frame)})  # exactly the limit alone
    attributes: dict[str, Any] = {"reason": {"DataType": "String", "StringValue": "bad"}}

    alone = json.loads(message_body(record, "bad"))
    beside = json.loads(message_body(record, "bad", room=attributes_size(attributes)))

    assert "imagesOmitted" not in alone["record"]
    assert beside["record"]["imagesOmitted"] is True
    assert attributes_size(attributes) == len("reason") + len("String") + len("bad")
