"""Hostile input on every MFA field: wrong types, non-ASCII digits, control characters, lone
surrogates, huge values, both proofs or none. Each is a deliberate 4xx in the API's error shape,
and nothing hostile ever turns MFA on."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.test_hostile_input import LONE_SURROGATE, assert_refused
from tests.support.api_clients import ApiClient, CreatedUser, UserFactory


@pytest.fixture
def user(make_user: UserFactory) -> CreatedUser:
    return make_user()


HOSTILE_CODES: list[object] = [
    "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
    "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
    "12345\u0000",
    "123456\n",
    " 123456",
    "1234567",
    "",
    "x" * 100_000,
    123456,
    ["123456"],
    {"code": "123456"},
    None,
    True,
]


@pytest.mark.parametrize("code", HOSTILE_CODES)
def test_given_a_hostile_code_when_confirming_an_enrolment_then_422_and_mfa_stays_off(
    api: ApiClient, user: CreatedUser, code: object
) -> None:
    response = api.request(
        "POST", "/users/me/mfa/totp/confirm", json={"code": code}, caller=user.caller
    )

    assert_refused(response, 422)
    assert api.request("GET", "/users/me", caller=user.caller).json["mfa_enabled"] is False


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": "12' + LONE_SURROGATE.encode() + b'456"}',
        b'{"code": "123456", "extra": 1}',
        b'{"code": "123456", "code": "654321", "x": {"y": {"z": []}}}',
        b"{}",
    ],
)
def test_given_a_hostile_confirm_body_when_sent_then_422(
    api: ApiClient, user: CreatedUser, body: bytes
) -> None:
    response = api.request("POST", "/users/me/mfa/totp/confirm", body=body, caller=user.caller)

    assert_refused(response, 422)


@pytest.mark.parametrize(
    "body",
    [
        b'{"current_password": "x' + LONE_SURROGATE.encode() + b'y"}',
        b'{"current_password": 5}',
        b'{"current_password": ["a"]}',
        b'{"current_password": "' + b"p" * 2000 + b'"}',
        b'{"current_password": "ok", "roles": ["admin"]}',
        b"[null, null]",
        b'[{"current_password": "passphrase number 0"}]',
        b"[]",
        b"7",
        b"null",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/users/me/mfa/totp"),
        ("DELETE", "/users/me/mfa/totp"),
        ("POST", "/users/me/mfa/recovery-codes"),
    ],
)
def test_given_a_hostile_reauthentication_body_when_sent_then_422(
    api: ApiClient, user: CreatedUser, method: str, path: str, body: bytes
) -> None:
    response = api.request(method, path, body=body, caller=user.caller)

    assert_refused(response, 422)


@pytest.mark.parametrize(
    "fields",
    [
        {"mfa_token": "t"},  # no proof
        {"mfa_token": "t", "code": "123456", "recovery_code": "abcde-fghjk"},  # two proofs
        {"mfa_token": "t" * 257, "code": "123456"},
        {"mfa_token": 5, "code": "123456"},
        {"mfa_token": ["t"], "code": "123456"},
        {"mfa_token": None, "code": "123456"},
        {"code": "123456"},
        {"mfa_token": "t", "code": "\uff11\uff12\uff13\uff14\uff15\uff16"},
        {"mfa_token": "t", "code": 123456},
        {"mfa_token": "t", "recovery_code": "r" * 65},
        {"mfa_token": "t", "recovery_code": 12345},
        {"mfa_token": "t", "recovery_code": ""},
        {"mfa_token": "t", "code": "123456", "challenge_id": "c"},
    ],
)
def test_given_a_malformed_second_step_when_sent_then_422(
    api: ApiClient, fields: dict[str, object]
) -> None:
    response = api.request("POST", "/auth/mfa", json=fields)

    assert_refused(response, 422)


@pytest.mark.parametrize("field", ["mfa_token", "recovery_code"])
def test_given_a_lone_surrogate_in_a_second_step_field_when_sent_then_422(
    api: ApiClient, field: str
) -> None:
    values = {"mfa_token": '"token"', "recovery_code": '"abcde-fghjk"'}
    values[field] = f'"ab{LONE_SURROGATE}cd"'
    body = ("{" + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}").encode()

    response = api.request("POST", "/auth/mfa", body=body)

    assert_refused(response, 422)


@pytest.mark.parametrize(
    "fields",
    [
        {"mfa_token": "\u0000\u202e\u200b", "code": "123456"},
        {"mfa_token": "\U0001f600" * 60, "recovery_code": "abcde-fghjk"},
        {"mfa_token": "unknown", "recovery_code": "\u0000" * 10},
        {
            "mfa_token": "unknown",
            "recovery_code": "\uff21\uff22\uff23\uff24\uff25-\uff26\uff27\uff28\uff2a\uff2b",
        },
    ],
)
def test_given_well_formed_but_unknown_values_when_completing_then_the_one_401(
    api: ApiClient, fields: dict[str, object]
) -> None:
    response = api.request("POST", "/auth/mfa", json=fields)

    assert (response.status, response.json) == (401, {"message": "Invalid credentials"})
    assert "mfa_token" not in json.dumps(response.json)
