"""Dangerous operations (delete your own account, change email or password) need the current
password or a session whose login is within the window, on the handlers with the authorizer's
context as given; what the tokens carry: test_token_session_claims.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api_clients import ApiClient, CreatedUser, UserFactory, caller_of

REAUTHENTICATION_REQUIRED = {"message": "Reauthentication required"}


@pytest.fixture
def user(make_user: UserFactory) -> CreatedUser:
    return make_user()


DANGEROUS = [
    ("DELETE", "/users/me", {}),
    ("PATCH", "/users/me", {"email": "moved@example.com"}),
    ("PATCH", "/users/me", {"password": "a brand new passphrase"}),
]


@pytest.mark.parametrize(("method", "path", "body"), DANGEROUS)
def test_given_an_old_session_and_no_password_when_doing_a_dangerous_operation_then_403(
    api: ApiClient, user: CreatedUser, method: str, path: str, body: dict[str, str]
) -> None:
    response = api.request(method, path, json=body or None, caller=user.caller)

    assert (response.status, response.json) == (403, REAUTHENTICATION_REQUIRED)
    assert api.request("GET", "/users/me", caller=user.caller).json["version"] == 1


@pytest.mark.parametrize(("method", "path", "body"), DANGEROUS)
def test_given_an_old_session_when_the_current_password_is_sent_then_done(
    api: ApiClient, user: CreatedUser, method: str, path: str, body: dict[str, str]
) -> None:
    response = api.request(
        method, path, json={**body, "current_password": user.password}, caller=user.caller
    )

    assert response.status in (200, 204), response.text


def test_given_a_current_password_with_a_control_character_then_simply_a_wrong_password(
    api: ApiClient, make_user: UserFactory
) -> None:
    """Opaque text, checked like any guess: 403, counted as a failed login, nothing deleted."""
    created = make_user()
    recent = caller_of(_user_of(api, created), logged_in=30)
    body = b'{"current_password": "pass\\u0000word"}'

    response = api.request("DELETE", "/users/me", body=body, caller=recent)

    assert (response.status, response.json) == (403, {"message": "current_password is wrong"})
    assert api.request("GET", "/users/me", caller=recent).status == 200


@pytest.mark.parametrize(("method", "path", "body"), DANGEROUS)
def test_given_a_session_within_the_window_when_no_password_is_sent_then_done(
    api: ApiClient, make_user: UserFactory, method: str, path: str, body: dict[str, str]
) -> None:
    created = make_user()
    recent = caller_of(_user_of(api, created), logged_in=30)

    response = api.request(method, path, json=body or None, caller=recent)

    assert response.status in (200, 204), response.text


def _user_of(api: ApiClient, created: CreatedUser) -> Any:
    from domain.users import User

    body = api.request("GET", "/users/me", caller=created.caller).json
    return User.model_validate(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"current_password": 12345678}',
        b'{"current_password": ["passphrase"]}',
        b'{"current_password": {"a": 1}}',
        b'{"current_password": ""}',
        b'{"current_password": "' + b"x" * 2000 + b'"}',
        b'{"current_password": "\\ud800"}',
        b'{"password": "a brand new passphrase"}',
        b'"just a string"',
        b"[1, 2, 3]",
        b'{"current_password": "x"',
        b"[null, null]",
        b"null",
    ],
)
def test_given_a_hostile_body_when_deleting_your_account_then_a_4xx_and_nothing_deleted(
    api: ApiClient, make_user: UserFactory, body: bytes
) -> None:
    """From a session recent enough to delete without a password: only the body can refuse."""
    created = make_user()
    recent = caller_of(_user_of(api, created), logged_in=30)

    response = api.request("DELETE", "/users/me", body=body, caller=recent)

    assert response.status in (400, 422), response.text[:300]
    assert set(response.json) <= {"message", "details"}
    assert api.request("GET", "/users/me", caller=recent).status == 200


def test_given_no_session_claims_in_the_authorizer_context_when_called_then_401(
    api: ApiClient, user: CreatedUser
) -> None:
    """A context without ``sid`` or ``auth_time`` is an authorizer bug: never a free pass."""
    from dataclasses import replace

    response = api.request("GET", "/users/me", caller=replace(user.caller, family_id=None))

    assert response.status == 401
