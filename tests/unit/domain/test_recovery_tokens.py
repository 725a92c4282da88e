"""Recovery tokens and the messages that carry them: pure rules, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.mail import MailKind, MailRequest, render
from domain.recovery_tokens import (
    TOKEN_LIFETIME,
    TokenPurpose,
    hash_reference,
    new_token,
    read_token,
    token_for,
)

KEY = b"k" * 32
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_given_a_new_token_then_only_its_hash_is_kept_and_lifetimes_are_short() -> None:
    token = new_token("user-1", TokenPurpose.RESET_PASSWORD, NOW)

    assert token.issued.token_hash == hash_reference(token.reference)
    assert token.reference not in token.issued.token_hash
    assert TOKEN_LIFETIME[TokenPurpose.RESET_PASSWORD] <= timedelta(hours=1)
    assert TOKEN_LIFETIME[TokenPurpose.VERIFY_EMAIL] <= timedelta(hours=24)
    assert token.issued.expires_at == NOW + TOKEN_LIFETIME[TokenPurpose.RESET_PASSWORD]


def test_given_two_tokens_then_they_differ() -> None:
    first = new_token("user-1", TokenPurpose.VERIFY_EMAIL, NOW)
    second = new_token("user-1", TokenPurpose.VERIFY_EMAIL, NOW)

    assert first.reference != second.reference


def test_given_the_mailed_token_when_read_then_it_names_its_user_and_stored_hash() -> None:
    issued = new_token("user-1", TokenPurpose.VERIFY_EMAIL, NOW)
    token = token_for(KEY, TokenPurpose.VERIFY_EMAIL, issued.reference)

    presented = read_token(KEY, TokenPurpose.VERIFY_EMAIL, token)

    assert presented is not None
    assert presented.user_id == "user-1"
    assert issued.issued.accepts(presented.token_hash, NOW)
    assert not issued.issued.accepts(presented.token_hash, issued.issued.expires_at)


def test_given_a_reference_or_another_purpose_or_key_when_read_then_refused() -> None:
    issued = new_token("user-1", TokenPurpose.VERIFY_EMAIL, NOW)
    token = token_for(KEY, TokenPurpose.VERIFY_EMAIL, issued.reference)

    assert read_token(KEY, TokenPurpose.VERIFY_EMAIL, issued.reference) is None
    assert read_token(KEY, TokenPurpose.RESET_PASSWORD, token) is None
    assert read_token(b"other" * 8, TokenPurpose.VERIFY_EMAIL, token) is None
    for junk in ["", ".", "..", "a.b.c", "é" * 10, "\ud800", "x" * 10_000, token + "x"]:
        assert read_token(KEY, TokenPurpose.VERIFY_EMAIL, junk) is None


def test_given_a_link_message_when_rendered_then_the_link_carries_the_token() -> None:
    request = MailRequest(
        message_id="m1",
        kind=MailKind.RESET_PASSWORD,
        to="ann@example.com",
        user_id="user-1",
        name="Ann",
        token_reference="user-1.abc",
    )

    mail = render(request, "https://app.example.com/account/?lang=en", "user-1.abc.mac")

    assert mail.to == "ann@example.com"
    assert "https://app.example.com/account/reset-password?lang=en&token=user-1.abc.mac" in (
        mail.text
    )


def test_given_an_email_change_notice_when_rendered_then_it_names_the_new_address() -> None:
    request = MailRequest(
        message_id="m2",
        kind=MailKind.EMAIL_CHANGED,
        to="old@example.com",
        user_id="user-1",
        name="Ann",
        new_email="new@example.com",
    )

    mail = render(request, "https://app.example.com", None)

    assert mail.to == "old@example.com"
    assert "new@example.com" in mail.text
    assert "token=" not in mail.text
