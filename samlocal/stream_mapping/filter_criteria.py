"""EventBridge-style content filtering, as Lambda applies ``FilterCriteria`` to stream records.

A pattern mirrors the record's structure; each leaf is a list of matchers of which one must
match: an exact value, ``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but``,
``exists``, ``numeric`` or ``wildcard``; ``$or`` takes alternatives. A list in the record
matches when any of its elements does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def validate(pattern: Any) -> None:
    """Raises ValueError where Lambda would refuse the pattern: every leaf is a non-empty list
    of matchers, every other value an object, ``$or`` a list of patterns."""
    if not isinstance(pattern, Mapping):
        raise ValueError(f"a filter pattern must be a JSON object, not {pattern!r}")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or not value:
                raise ValueError(f"$or must be a non-empty list of patterns, not {value!r}")
            for alternative in value:
                validate(alternative)
        elif isinstance(value, Mapping):
            validate(value)
        elif not isinstance(value, list) or not value:
            raise ValueError(f"{key!r} must be an object or a non-empty list, not {value!r}")


def matches(pattern: Mapping[str, Any], document: Any) -> bool:
    """Whether the document (a stream record, an event) matches the pattern."""
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alternative, document) for alternative in expected):
                return False
            continue
        actual = document.get(key, _MISSING) if isinstance(document, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if not matches(expected, actual if isinstance(actual, Mapping) else {}):
                return False
        elif not any(_leaf_matches(matcher, actual) for matcher in expected):
            return False
    return True


def _leaf_matches(matcher: Any, actual: Any) -> bool:
    if isinstance(matcher, Mapping) and "exists" in matcher:
        present = actual is not _MISSING and not isinstance(actual, Mapping)
        return present is bool(matcher["exists"])
    if actual is _MISSING:
        return False
    if isinstance(actual, list):
        return any(_value_matches(matcher, item) for item in actual)
    return _value_matches(matcher, actual)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_matches(matcher: Any, actual: Any) -> bool:  # noqa: PLR0911
    if not isinstance(matcher, Mapping):
        if _is_number(matcher) and _is_number(actual):
            return float(matcher) == float(actual)
        return type(matcher) is type(actual) and bool(matcher == actual)
    if "anything-but" in matcher:
        excluded = matcher["anything-but"]
        if isinstance(excluded, Mapping):
            return not _value_matches(excluded, actual)
        options = excluded if isinstance(excluded, list) else [excluded]
        return not any(_value_matches(option, actual) for option in options)
    if not isinstance(actual, str):
        return "numeric" in matcher and _is_number(actual) and _numeric(matcher["numeric"], actual)
    if "prefix" in matcher:
        return _affix(matcher["prefix"], actual, str.startswith)
    if "suffix" in matcher:
        return _affix(matcher["suffix"], actual, str.endswith)
    if "equals-ignore-case" in matcher:
        return str(matcher["equals-ignore-case"]).lower() == actual.lower()
    if "wildcard" in matcher:
        regex = ".*".join(re.escape(part) for part in str(matcher["wildcard"]).split("*"))
        return re.fullmatch(regex, actual) is not None
    return False


def _affix(expected: Any, actual: str, test: Callable[[str, str], bool]) -> bool:
    if isinstance(expected, Mapping):
        return test(actual.lower(), str(expected["equals-ignore-case"]).lower())
    return test(actual, str(expected))


def _numeric(conditions: list[Any], actual: float) -> bool:
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC[op](float(actual), float(bound)) for op, bound in pairs)
