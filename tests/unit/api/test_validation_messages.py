"""Validation problems as callers read them: plain words, one shape (issue 25, point 7)."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import BaseModel, ValidationError

from domain.users import Password, Phone
from handlers.validation_messages import PATTERN_WORDS, problems
from scripts.generate_openapi import OUTPUT


class Sample(BaseModel):
    password: Password
    phone: Phone | None = None
    roles: list[str] = []


def refusal(**fields: object) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate(fields)
    return problems(raised.value.errors())


def test_given_a_short_password_then_the_problem_counts_characters_not_items() -> None:
    assert refusal(password="short") == [
        {"location": "password", "problem": "must be at least 8 characters"}
    ]


def test_given_a_malformed_phone_then_the_problem_says_the_form_not_the_regex() -> None:
    found = refusal(password="a long enough one", phone="12")

    assert found == [{"location": "phone", "problem": PATTERN_WORDS[r"^\+[1-9][0-9]{6,14}$"]}]
    assert "E.164" in found[0]["problem"]


def test_given_a_missing_field_then_it_is_required() -> None:
    assert refusal() == [{"location": "password", "problem": "is required"}]


def test_given_every_pattern_in_the_document_then_each_has_plain_words() -> None:
    patterns = set(re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', OUTPUT.read_text()))
    enforced = {json.loads(f'"{pattern}"') for pattern in patterns}
    # Documentation-only patterns (visible text, passwords) are enforced by validators whose
    # messages are already words.
    enforced = {p for p in enforced if "\\u0000" not in p.encode("unicode_escape").decode()}
    enforced = {p for p in enforced if "\x00" not in p}
    assert enforced <= set(PATTERN_WORDS), enforced - set(PATTERN_WORDS)
