"""Plain Python values <-> DynamoDB attribute values, without importing boto3.

Importing anything under ``boto3`` loads boto3 itself and its resource machinery (~17 ms of a
cold start) that no function needs: the AWS clients are botocore's (adapters/aws_clients.py).
Reading uses Powertools' ``TypeDeserializer`` (boto3's conversions, numbers as ``Decimal``);
writing covers the types the table's items hold, and produces exactly what boto3's
``TypeSerializer`` does for them (tests/unit/adapters/test_dynamodb_values.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

_deserializer = TypeDeserializer()


def plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's (or image's) attributes as plain values."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


# Checked in order: a bool is an int too.
_SCALARS: tuple[tuple[type | tuple[type, ...], str, Callable[[Any], Any]], ...] = (
    (bool, "BOOL", bool),
    (str, "S", str),
    ((int, Decimal), "N", str),
    (bytes, "B", bytes),
)


def attribute_value(value: Any) -> dict[str, Any]:
    """``value`` as a DynamoDB attribute value: strings, numbers (int, Decimal), booleans,
    None, bytes, non-empty sets of strings, numbers or bytes, and lists and string-keyed maps
    of them; anything else is a TypeError."""
    if value is None:
        return {"NULL": True}
    for kinds, tag, convert in _SCALARS:
        if isinstance(value, kinds):
            return {tag: convert(value)}
    if isinstance(value, set | frozenset):
        return {_set_tag(value): [attribute_value(item).popitem()[1] for item in value]}
    if isinstance(value, list | tuple):
        return {"L": [attribute_value(item) for item in value]}
    if isinstance(value, Mapping):
        return {"M": attributes(value)}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def _set_tag(values: set[Any] | frozenset[Any]) -> str:
    """A set's DynamoDB type: all its members must be of one scalar kind (not booleans)."""
    for kinds, tag, _ in _SCALARS[1:]:
        if values and all(isinstance(v, kinds) and not isinstance(v, bool) for v in values):
            return tag + "S"
    raise TypeError("a set must be non-empty strings, numbers or bytes")


def attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values by name as an item's attributes."""
    return {str(name): attribute_value(value) for name, value in values.items()}
