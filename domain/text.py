"""Rules every text a client sends must meet before it is stored, hashed, logged or published."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import SecretStr

# Zero-width (non-)joiners are format characters that some scripts and emoji sequences need.
_ALLOWED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def require_valid_unicode(value: str) -> str:
    """JSON can carry lone UTF-16 surrogates; they cannot be encoded, so nothing downstream
    (hashing, DynamoDB, logs) could handle them."""
    try:
        value.encode()
    except UnicodeEncodeError as error:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from error
    return value


def require_valid_unicode_secret(value: SecretStr) -> SecretStr:
    require_valid_unicode(value.get_secret_value())
    return value


def has_control_characters(value: str) -> bool:
    """Control (NUL, U+0001, ...), format (zero-width space, bidi overrides, ...) or surrogate code
    points: invisible or unencodable, they make look-alike or unprintable text."""
    return any(
        unicodedata.category(char) in _REFUSED_CATEGORIES and char not in _ALLOWED_FORMAT_CHARACTERS
        for char in value
    )


def refuse_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control or invisible formatting characters")
    return value


def _character_class(categories: frozenset[str], exempt: frozenset[str]) -> str:
    """A regular-expression character class body listing every BMP code point of ``categories``,
    escaped. Astral ones are left out: without the ``u`` flag an ECMA regex (what OpenAPI tools
    use) reads them as surrogate pairs, so the document is exact for the BMP only."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char) in categories and char not in exempt:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])

    return "".join(
        f"\\u{first:04x}" if first == last else f"\\u{first:04x}-\\u{last:04x}"
        for first, last in ranges
    )


def _visible_text_pattern(character_class: str) -> str:
    """JSON Schema pattern: none of the class, and at least one character that is not a space."""
    return f"^[^{character_class}]*[^\\s{character_class}][^{character_class}]*$"


@cache
def visible_text_pattern() -> str:
    """What ``refuse_control_characters`` accepts, with a visible character (OpenAPI only:
    computed on first use, which only the document generator pays)."""
    return _visible_text_pattern(
        _character_class(_REFUSED_CATEGORIES - {"Cs"}, _ALLOWED_FORMAT_CHARACTERS)
    )


@cache
def visible_secret_pattern() -> str:
    """The characters the password policy accepts, with a visible one (OpenAPI only)."""
    return _visible_text_pattern(_character_class(frozenset({"Cc"}), frozenset()))


def document_pattern(pattern: Callable[[], str]) -> Callable[[dict[str, Any]], None]:
    """A pydantic ``json_schema_extra`` stating ``pattern`` in the schema; validation is done by
    the field's validators, so the pattern is never compiled to validate."""

    def add(schema: dict[str, Any]) -> None:
        schema["pattern"] = pattern()

    return add
