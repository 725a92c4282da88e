from collections.abc import Callable

import pytest

from adapters.cursor_codec import CursorCodec
from domain.errors import InvalidCursor, InvalidPrecondition
from handlers.http import etag, parse_if_match


@pytest.mark.parametrize(
    ("header", "version"), [('"3"', 3), ("3", 3), ('W/"7"', 7), (None, None), ("*", None)]
)
def test_given_an_if_match_header_when_parsed_then_the_version_is_read(
    header: str | None, version: int | None
) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize(
    "header", ['"abc"', '"-1"', "", '"1.5"', '"\u00b2"', "\u0663", 'W/"\uff11"', '"1", "2"']
)
def test_given_a_malformed_if_match_when_parsed_then_it_is_refused(header: str) -> None:
    with pytest.raises(InvalidPrecondition):
        parse_if_match(header)


def test_given_a_version_when_made_an_etag_then_it_round_trips() -> None:
    assert parse_if_match(etag(12)) == 12


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(lambda: b"k" * 32)


def test_given_a_cursor_when_decoded_then_the_key_round_trips(codec: CursorCodec) -> None:
    key = {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}

    assert codec.decode(codec.encode(key)) == key


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace(c[2], "A" if c[2] != "A" else "B", 1),
        lambda c: c.split(".")[0],
        lambda c: c + "x",
        lambda c: "not base64!.abc",
        lambda c: "",
        lambda c: c + "\u00e9",
        lambda c: c.replace(".", ".\u2603"),
        lambda c: "\ud800." + c,
    ],
)
def test_given_a_tampered_cursor_when_decoded_then_it_is_refused(
    codec: CursorCodec, tamper: Callable[[str], str]
) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(tamper(codec.encode({"PK": {"S": "USER#1"}})))


def test_given_a_cursor_from_another_key_when_decoded_then_it_is_refused(
    codec: CursorCodec,
) -> None:
    foreign = CursorCodec(lambda: b"x" * 32).encode({"PK": {"S": "USER#1"}})

    with pytest.raises(InvalidCursor):
        codec.decode(foreign)
