"""Request-validation problems in plain words, in the one ``details`` shape every error uses.

Pydantic words its errors for programmers: a password is "Value should have at least 12 items"
(SecretStr is a sized value to it), a phone number "String should match pattern '^\\+[1-9]...'".
Callers see "must be at least 12 characters" and "must be an international number (E.164)".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, SecretStr

BASE64URL = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$"
PATTERN_WORDS = {
    r"^\+[1-9][0-9]{6,14}$": "must be an international phone number (E.164), e.g. +447700900123",
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": "must be a language tag (BCP 47), e.g. en-GB",
    r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$": "must be an IANA time zone, e.g. Europe/London",
    BASE64URL: "must be base64url-encoded",
    r"^[A-Za-z0-9_-]{16,64}$": "must be the challenge_id the options request answered",
    r"^[a-z-]{1,32}$": "must be a WebAuthn transport name, e.g. usb or internal",
    r"^[0-9]{6}$": "must be the 6 digits the authenticator app shows",
    r'^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$': 'must be an ETag this API returned, e.g. "3"',
    r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$": "must be a next_cursor this API returned",
}


class Problem(BaseModel):
    """One thing wrong with a request: where (``body.password``, ``query.limit``) and what."""

    location: str
    problem: str


def plain_words(problem: dict[str, Any]) -> str:
    kind, ctx, value = problem.get("type", ""), problem.get("ctx") or {}, problem.get("input")
    textual = isinstance(value, str | SecretStr)
    unit = "characters" if textual or kind.startswith("string_") else "items"
    if kind in ("too_short", "string_too_short"):
        return f"must be at least {ctx.get('min_length')} {unit}"
    if kind in ("too_long", "string_too_long"):
        return f"must be at most {ctx.get('max_length')} {unit}"
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern")), "is not in the form this field takes")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    message = str(problem.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def problems(errors: Sequence[Any]) -> list[dict[str, str]]:
    return [
        Problem(
            location=".".join(str(part) for part in error.get("loc", ())),
            problem=plain_words(error),
        ).model_dump()
        for error in errors
    ]
