from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from adapters.dynamodb_values import attribute_value, attributes, plain
from domain.users import Role

VALUES: list[Any] = [
    "text",
    "",
    "\u00e9\u2603",
    0,
    -7,
    10**37,
    Decimal("1.5"),
    True,
    False,
    None,
    b"\x00\xff",
    ["user", "admin"],
    [],
    (1, "a"),
    {"nested": {"list": [1, None, True]}, "empty": {}},
    Role.ADMIN,
    {"hash-a", "hash-b", "hash-c"},
    frozenset({"only"}),
    {1, Decimal("2.5")},
]


@pytest.mark.parametrize("value", VALUES)
def test_given_a_stored_value_when_serialised_then_it_is_what_boto3_makes_of_it(value: Any) -> None:
    expected = TypeSerializer().serialize(list(value) if isinstance(value, tuple) else value)
    if "B" in expected:
        expected = {"B": bytes(expected["B"])}

    assert attribute_value(value) == expected


@pytest.mark.parametrize("value", [1.5, object(), set(), {1, "a"}, {True}])
def test_given_a_value_the_table_never_holds_when_serialised_then_it_is_refused(
    value: Any,
) -> None:
    with pytest.raises(TypeError):
        attribute_value(value)


def test_given_an_item_when_written_and_read_back_then_values_round_trip() -> None:
    values = {"id": "u1", "version": 3, "roles": ["user"], "verified": False, "phone": None}

    item = attributes(values)

    assert plain(item) == values
    assert plain(item) == {k: TypeDeserializer().deserialize(v) for k, v in item.items()}
