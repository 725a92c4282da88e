"""TOTP per RFC 6238 (with pyotp), recovery codes, sealing and the MFA policy: pure rules."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from domain.mfa_codes import (
    RECOVERY_CODE_COUNT,
    matched_step,
    new_recovery_codes,
    new_totp_secret,
    normalize_recovery_code,
    otpauth_uri,
)
from domain.mfa_crypto import MfaKeys, SealedSecretUnreadable
from domain.mfa_policy import ENROLMENT_ROUTES, MfaPolicy

NOW = datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC)
# RFC 6238 appendix B: the SHA-1 test secret and its 8-digit values; pyotp yields the last 6.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_given_the_rfc_6238_test_vectors_when_matched_then_their_time_steps_are_returned() -> None:
    for epoch, expected in [(59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")]:
        at = datetime.fromtimestamp(epoch, UTC)
        assert matched_step(RFC_SECRET, expected[-6:], at) == epoch // 30


def test_given_a_new_secret_then_it_is_160_bits_of_base32() -> None:
    secret = new_totp_secret()
    assert len(base64.b32decode(secret)) == 20
    assert new_totp_secret() != secret


def test_given_a_code_when_checked_then_now_and_one_step_back_match_but_not_older_or_ahead() -> (
    None
):
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    assert matched_step(secret, totp.at(NOW), NOW) == step
    assert matched_step(secret, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert matched_step(secret, totp.at(NOW - timedelta(seconds=60)), NOW) is None
    assert matched_step(secret, totp.at(NOW + timedelta(seconds=30)), NOW) is None


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 456"]
)
def test_given_a_malformed_code_when_checked_then_it_matches_nothing(code: str) -> None:
    assert matched_step(new_totp_secret(), code, NOW) is None


def test_given_an_account_when_the_otpauth_uri_is_made_then_apps_read_issuer_and_parameters() -> (
    None
):
    secret = new_totp_secret()
    uri = otpauth_uri(secret, "ann@example.com", "Acme Cloud")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Acme Cloud"]
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.digits, parsed.interval, parsed.name) == (6, 30, "ann@example.com")


def test_given_new_recovery_codes_then_ten_distinct_codes_that_normalize_as_typed() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == RECOVERY_CODE_COUNT == 10
    for code in codes:
        normalized = normalize_recovery_code(code)
        assert normalized is not None
        assert normalize_recovery_code(f"  {code.upper()} ") == normalized
        assert normalize_recovery_code(code.replace("-", " ")) == normalized


@pytest.mark.parametrize(
    "text",
    ["", "abcde", "abcde-fghij-k", "abcde-fghi1", "abcde-fghio", "\uff41bcde-fghjk", "\x00" * 10],
)
def test_given_text_that_cannot_be_a_recovery_code_then_it_normalizes_to_nothing(text: str) -> None:
    assert normalize_recovery_code(text) is None


def test_given_a_sealed_secret_then_it_opens_for_its_user_only_and_never_holds_the_plaintext() -> (
    None
):
    keys = MfaKeys(lambda: b"k" * 64)
    sealed = keys.seal("JBSWY3DPEHPK3PXP", "user-1")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert keys.open(sealed, "user-1") == "JBSWY3DPEHPK3PXP"
    assert keys.seal("JBSWY3DPEHPK3PXP", "user-1") != sealed  # a fresh nonce each time
    with pytest.raises(SealedSecretUnreadable):
        keys.open(sealed, "user-2")
    with pytest.raises(SealedSecretUnreadable):
        MfaKeys(lambda: b"other key").open(sealed, "user-1")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SealedSecretUnreadable):
        keys.open(tampered, "user-1")


def test_given_two_keys_then_recovery_code_hashes_differ_and_never_show_the_code() -> None:
    first, second = MfaKeys(lambda: b"a" * 64), MfaKeys(lambda: b"b" * 64)
    assert first.code_hash("abcdefghjk") == first.code_hash("abcdefghjk")
    assert first.code_hash("abcdefghjk") != second.code_hash("abcdefghjk")
    assert "abcdefghjk" not in first.code_hash("abcdefghjk")


@pytest.mark.parametrize(
    ("policy", "roles", "amr", "route", "admitted"),
    [
        (MfaPolicy.OPTIONAL, ["user"], ["pwd"], "GET /users", True),
        (MfaPolicy.REQUIRED, ["user"], ["pwd"], "GET /users/{id}", False),
        (MfaPolicy.REQUIRED, ["user"], ["pwd"], "POST /users/me/mfa/totp", True),
        (MfaPolicy.REQUIRED, ["user"], ["pwd", "otp"], "GET /users/{id}", True),
        (MfaPolicy.REQUIRED, ["user"], ["hwk", "user"], "GET /users/{id}", True),
        (MfaPolicy.REQUIRED_FOR_ADMINS, ["user"], ["pwd"], "GET /users/{id}", True),
        (MfaPolicy.REQUIRED_FOR_ADMINS, ["user", "admin"], ["pwd"], "GET /users", False),
        (MfaPolicy.REQUIRED_FOR_ADMINS, ["user", "admin"], ["pwd"], "GET /users/me/mfa", True),
    ],
)
def test_given_a_policy_when_a_token_calls_a_route_then_only_enrolment_is_open_without_a_factor(
    policy: MfaPolicy, roles: list[str], amr: list[str], route: str, admitted: bool
) -> None:
    assert policy.admits(roles, amr, route) is admitted


def test_given_the_enrolment_routes_then_none_of_them_manages_other_users_or_disables_mfa() -> None:
    assert all("{id}" not in route for route in ENROLMENT_ROUTES)
    assert "DELETE /users/me/mfa/totp" not in ENROLMENT_ROUTES
