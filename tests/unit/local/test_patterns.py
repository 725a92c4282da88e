"""Filter criteria match stream records as Lambda's EventBridge-style filtering does."""

from __future__ import annotations

from typing import Any

import pytest

from samlocal.stream_mapping.filter_criteria import matches

RECORD = {
    "eventName": "MODIFY",
    "dynamodb": {
        "Keys": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        "NewImage": {"roles": {"L": [{"S": "user"}, {"S": "admin"}]}, "n": 5},
    },
}


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": ["INSERT", "MODIFY"]},
        {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "USER#"}]}, "SK": {"S": ["PROFILE"]}}}},
        {"dynamodb": {"Keys": {"SK": {"S": [{"suffix": "FILE"}]}}}},
        {"eventName": [{"anything-but": ["INSERT", "REMOVE"]}]},
        {"eventName": [{"equals-ignore-case": "modify"}]},
        {"dynamodb": {"OldImage": [{"exists": False}]}},
        {"dynamodb": {"Keys": {"PK": {"S": [{"exists": True}]}}}},
        {"dynamodb": {"NewImage": {"n": [{"numeric": [">", 1, "<=", 5]}]}}},
        {"dynamodb": {"Keys": {"PK": {"S": [{"wildcard": "USER#*"}]}}}},
        {"$or": [{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}]},
    ],
)
def test_given_a_matching_pattern_when_filtering_then_the_record_passes(
    pattern: dict[str, Any],
) -> None:
    assert matches(pattern, RECORD)


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": ["INSERT"]},
        {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EMAIL#"}]}}}},
        {"eventName": [{"anything-but": "MODIFY"}]},
        {"dynamodb": {"Keys": {"PK": {"S": [{"exists": False}]}}}},
        {"dynamodb": {"Missing": {"S": ["x"]}}},
        {"dynamodb": {"NewImage": {"n": [{"numeric": [">", 5]}]}}},
        {"dynamodb": {"NewImage": {"n": ["5"]}}},
    ],
)
def test_given_a_non_matching_pattern_when_filtering_then_the_record_is_dropped(
    pattern: dict[str, Any],
) -> None:
    assert not matches(pattern, RECORD)
