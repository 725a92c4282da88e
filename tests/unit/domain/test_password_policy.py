"""The password policy (NIST SP 800-63B): what is refused, and why, before anything is hashed."""

from __future__ import annotations

import pytest

from domain.errors import PasswordPolicyViolation
from domain.password_policy import password_forms, validated_password

EMAIL = "ann@example.com"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        ("Ann@Example.com", "not be the email"),
        (" " * 12, "only whitespace"),
        ("\t\n \u3000\u2003" * 3, "only whitespace"),
        ("a long pass\x00phrase", "control characters"),
        ("correcthorsebatterystaple", "too common"),
        ("iloveyou12345", "too common"),
        ("PasswordPassword", "too common"),  # on the list lower-cased
        ("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44" * 2, "too common"),  # full-width NFKC
    ],
)
def test_given_a_weak_password_when_checked_then_the_policy_says_why(
    password: str, problem: str
) -> None:
    with pytest.raises(PasswordPolicyViolation) as raised:
        validated_password(password, EMAIL)

    assert problem in str(raised.value.details)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "\u00e9t\u00e9 \u00e0 la plage 2026", "\U0001f511" * 12],
)
def test_given_a_long_uncommon_passphrase_when_checked_then_it_passes(password: str) -> None:
    assert validated_password(password, EMAIL) == password


def test_given_compatibility_characters_when_validated_then_the_nfkc_form_is_hashed() -> None:
    typed = "\ufb01ne \u2460\u2461 passphrase"  # "fi" ligature, circled digits

    assert validated_password(typed, EMAIL) == "fine 12 passphrase"
    assert password_forms(typed) == ["fine 12 passphrase", typed]
    assert password_forms("plain ascii passphrase") == ["plain ascii passphrase"]
