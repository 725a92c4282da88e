"""Passkey management is a dangerous operation: registration options need recent authentication
(the current password, or a sign-in within the window), removing a passkey or the password needs
step-up; on the handlers with the authorizer's context as given."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from domain.access import Caller
from tests.support.api_clients import ApiClient, CreatedUser, UserFactory
from tests.support.webauthn_authenticator import SoftAuthenticator

REAUTHENTICATION_REQUIRED = {"message": "Reauthentication required"}


def _session(user: CreatedUser, *, age_seconds: int) -> Caller:
    """The user's caller in a session whose sign-in was ``age_seconds`` ago."""
    return replace(user.caller, auth_time=int(time.time()) - age_seconds)


@pytest.fixture
def user(make_user: UserFactory) -> CreatedUser:
    return make_user()


def _register(api: ApiClient, caller: Caller) -> dict[str, Any]:
    options = api.request("POST", "/users/me/passkeys/options", caller=caller)
    assert options.status == 200, options.text
    credential = SoftAuthenticator().create(options.json["options"])
    body = {"challenge_id": options.json["challenge_id"], "credential": credential}
    created = api.request("POST", "/users/me/passkeys", json=body, caller=caller)
    assert created.status == 201, created.text
    passkey: dict[str, Any] = created.json
    return passkey


def test_given_an_old_session_when_registration_options_are_asked_then_403(
    api: ApiClient, user: CreatedUser
) -> None:
    old = _session(user, age_seconds=3600)

    refused = api.request("POST", "/users/me/passkeys/options", caller=old)

    assert (refused.status, refused.json) == (403, REAUTHENTICATION_REQUIRED)


def test_given_an_old_session_with_the_current_password_when_options_asked_then_200(
    api: ApiClient, user: CreatedUser
) -> None:
    old = _session(user, age_seconds=3600)
    body = {"current_password": user.password}

    asked = api.request("POST", "/users/me/passkeys/options", json=body, caller=old)
    wrong = api.request(
        "POST", "/users/me/passkeys/options", json={"current_password": "not it"}, caller=old
    )

    assert asked.status == 200, asked.text
    assert wrong.status == 403


@pytest.mark.parametrize("route", ["passkey", "password"])
def test_given_an_old_session_when_removing_a_passkey_or_the_password_then_403_and_nothing_done(
    api: ApiClient, user: CreatedUser, route: str
) -> None:
    recent = _session(user, age_seconds=30)
    passkey = _register(api, recent)
    old = _session(user, age_seconds=3600)
    path = f"/users/me/passkeys/{passkey['id']}" if route == "passkey" else "/users/me/password"

    refused = api.request("DELETE", path, caller=old)
    done = api.request("DELETE", path, caller=recent)

    assert (refused.status, refused.json) == (403, REAUTHENTICATION_REQUIRED)
    assert done.status == 204


def test_given_an_old_session_when_listing_or_renaming_then_no_step_up_is_needed(
    api: ApiClient, user: CreatedUser
) -> None:
    passkey = _register(api, _session(user, age_seconds=30))
    old = _session(user, age_seconds=3600)

    renamed = api.request(
        "PATCH", f"/users/me/passkeys/{passkey['id']}", json={"name": "Desk key"}, caller=old
    )

    assert renamed.status == 200
    assert api.request("GET", "/users/me/passkeys", caller=old).json["items"] == [renamed.json]


@pytest.mark.parametrize("body", [b"[null]", b'[{"current_password": "x"}]', b"null", b"7"])
def test_given_an_options_body_that_is_not_an_object_when_posted_then_422(
    api: ApiClient, user: CreatedUser, body: bytes
) -> None:
    recent = _session(user, age_seconds=30)

    refused = api.request("POST", "/users/me/passkeys/options", body=body, caller=recent)

    assert refused.status == 422, refused.text
