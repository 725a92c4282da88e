"""One canonical identity per person: the email rules of domain/email_address.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.email_address import lookup_forms, normalize_email
from domain.users import Registration, UserPatch

CYRILLIC_A = "\u0430"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" Ann@Example.COM ", "ann@example.com"),
        ("\uff41\uff4e\uff4e@example.com", "ann@example.com"),  # full-width letters (NFKC)
        ("ann@XN--BCHER-KVA.de", "ann@b\u00fccher.de"),  # IDNA: one spelling of the domain
        ("ann@B\u00dcCHER.de", "ann@b\u00fccher.de"),
        ("\u1f48\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2@example.gr", None),  # Greek local part
        ("\u0430\u043d\u043d\u0430@example.com", None),  # all-Cyrillic local part
    ],
)
def test_given_an_acceptable_email_when_normalized_then_one_canonical_form(
    raw: str, canonical: str | None
) -> None:
    result = normalize_email(raw)

    assert result == (canonical or raw.strip().lower())
    assert normalize_email(result) == result


@pytest.mark.parametrize(
    "bad",
    [
        "ann\x00@example.com",
        "ann\x01@example.com",
        "a\u200bnn@example.com",  # zero-width space
        "ann@exa\u200bmple.com",
        "ann\u202e@example.com",  # right-to-left override
        "ann@example.com.",  # trailing-dot domain
        "ann@localhost",
        f"{CYRILLIC_A}nn@example.com",  # Cyrillic among Latin letters
        f"ann@ex{CYRILLIC_A}mple.com",
        f"p{CYRILLIC_A}ypal@example.com",
        "ann@[127.0.0.1]",
        '"ann smith"@example.com',
        "x" * 250 + "@example.com",
    ],
)
def test_given_a_hostile_or_look_alike_email_when_registering_then_it_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Registration.model_validate(
            {"email": bad, "password": "correct horse battery", "name": "Ann"}
        )


def test_given_an_address_stored_before_the_rules_when_looked_up_then_both_forms_are_tried() -> (
    None
):
    assert lookup_forms("Ann@XN--BCHER-KVA.de") == ["ann@b\u00fccher.de", "ann@xn--bcher-kva.de"]
    assert lookup_forms("ann@example.com") == ["ann@example.com"]
    assert lookup_forms("not an address") == ["not an address"]


@pytest.mark.parametrize(
    "name", ["Ann\x00", "Ann\x07Bell", "An\u200bn", "Ann\u202eevil", "Ann\ud800", "\x1b[31mAnn"]
)
def test_given_control_or_format_characters_in_a_name_when_sent_then_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        UserPatch.model_validate({"name": name})


@pytest.mark.parametrize(
    "name", ["Ann O'Neil", "\u00c9lodie", "\u5c71\u7530", "\U0001f469\u200d\U0001f4bb Ann"]
)
def test_given_a_name_in_any_script_or_with_emoji_when_sent_then_accepted(name: str) -> None:
    assert UserPatch.model_validate({"name": name}).name == name
