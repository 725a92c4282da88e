"""A pure reader of DynamoDB JSON (stream images), so the domain maps records without boto3."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def _number(text: str) -> int | Decimal:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else value


def _bytes(raw: Any) -> bytes:
    return base64.b64decode(raw) if isinstance(raw, str) else bytes(raw)


def image_values(image: dict[str, Any]) -> dict[str, Any]:
    """A whole item image (attribute name -> typed value) as plain values."""
    return {name: attribute_value(value) for name, value in image.items()}


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": _number,
    "BOOL": bool,
    "NULL": lambda _: None,
    "B": _bytes,
    "SS": lambda raw: sorted(str(item) for item in raw),
    "NS": lambda raw: sorted(_number(item) for item in raw),
    "BS": lambda raw: sorted(_bytes(item) for item in raw),
    "L": lambda raw: [attribute_value(item) for item in raw],
    "M": image_values,
}


def attribute_value(value: dict[str, Any]) -> Any:
    """One typed attribute (``{"S": "x"}``, ``{"N": "1"}``, ...) as a plain Python value.

    Sets come back as sorted lists so that equal items compare and serialise equally.
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"not a DynamoDB attribute value: {value!r:.80}")
    kind, raw = next(iter(value.items()))
    if kind not in _READERS:
        raise ValueError(f"unknown DynamoDB type {kind!r}")
    return _READERS[kind](raw)
