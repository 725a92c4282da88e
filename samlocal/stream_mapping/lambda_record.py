"""A DynamoDB Streams ``GetRecords`` record turned into the record Lambda delivers to a function.

Shared by everything that feeds a stream function without Lambda: the local runtime's poller, and
tools that re-read a stream to replay it, so a re-read record maps to exactly the event the
original did.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def as_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """Adds ``eventSourceARN``, gives ``ApproximateCreationDateTime`` in whole epoch seconds
    (boto3 parses it to a datetime; Lambda sends the number DynamoDB Streams rounded down) and
    binary values as base64 text (boto3 decodes them to bytes; Lambda's event is JSON)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    for name in ("Keys", "NewImage", "OldImage"):
        if name in stream:
            stream[name] = {key: _as_json(value) for key, value in stream[name].items()}
    return {**record, "eventSourceARN": stream_arn, "dynamodb": stream}


def _as_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """One attribute value, its binary parts (``B``, ``BS``, inside ``M`` and ``L`` too) as
    base64 text."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {kind: _base64(inner)}
    if kind == "BS":
        return {kind: [_base64(item) for item in inner]}
    if kind == "M":
        return {kind: {key: _as_json(item) for key, item in inner.items()}}
    if kind == "L":
        return {kind: [_as_json(item) for item in inner]}
    return dict(value)


def _base64(data: bytes | str) -> str:
    return base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
