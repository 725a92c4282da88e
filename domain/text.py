"""Rules every text a client sends must meet before it is stored, hashed, logged or published."""

from __future__ import annotations

import unicodedata

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
