"""A passkey as the second step of a password login (``POST /auth/mfa`` with ``challenge_id`` and
``credential``), and passkeys under ``MfaPolicy``, through the template's routes and authorizer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers import dependencies, handle_authorize
from tests.integration.api.test_mfa_flow import claims, enrol, password_step, second_step
from tests.support.api_clients import ApiResponse, CreatedUser, GatewayClient
from tests.support.webauthn_authenticator import SoftAuthenticator


def register_passkey(gateway: GatewayClient, token: str, device: SoftAuthenticator) -> None:
    options = gateway.request("POST", "/users/me/passkeys/options", token=token)
    assert options.status == 200, options.text
    body = {
        "challenge_id": options.json["challenge_id"],
        "credential": device.create(options.json["options"]),
    }
    created = gateway.request("POST", "/users/me/passkeys", json=body, token=token)
    assert created.status == 201, created.text


def passkey_proof(gateway: GatewayClient, device: SoftAuthenticator, email: str) -> dict[str, Any]:
    """The challenge of the user's sign-in options, answered by ``device``."""
    asked = gateway.request("POST", "/auth/passkey/options", json={"email": email})
    assert asked.status == 200, asked.text
    return {
        "challenge_id": asked.json["challenge_id"],
        "credential": device.get(asked.json["options"]),
    }


def second_step_with(gateway: GatewayClient, mfa_token: str, proof: dict[str, Any]) -> ApiResponse:
    return gateway.request("POST", "/auth/mfa", json={"mfa_token": mfa_token, **proof})


@pytest.fixture
def with_totp_and_passkey(gateway: GatewayClient) -> tuple[CreatedUser, SoftAuthenticator]:
    user = gateway.register()
    device = SoftAuthenticator()
    register_passkey(gateway, gateway.login(user)["access_token"], device)
    enrol(gateway, user)
    return user, device


def test_given_totp_and_a_passkey_when_logging_in_then_the_passkey_completes_it(
    gateway: GatewayClient, with_totp_and_passkey: tuple[CreatedUser, SoftAuthenticator]
) -> None:
    user, device = with_totp_and_passkey
    first = password_step(gateway, user)

    done = second_step_with(gateway, first["mfa_token"], passkey_proof(gateway, device, user.email))

    assert first["mfa_required"] is True
    assert first["methods"] == ["totp", "webauthn"]
    assert done.status == 200, done.text
    token_claims = claims(done.json["access_token"])
    assert (token_claims["sub"], token_claims["amr"]) == (user.id, ["pwd", "hwk"])
    me = gateway.request("GET", "/users/me", token=done.json["access_token"])
    assert me.status == 200
    assert gateway.request("GET", "/users/me/passkeys", token=done.json["access_token"]).json[
        "items"
    ][0]["last_used_at"]


def test_given_a_used_mfa_token_or_challenge_when_presented_again_then_401(
    gateway: GatewayClient, with_totp_and_passkey: tuple[CreatedUser, SoftAuthenticator]
) -> None:
    user, device = with_totp_and_passkey
    first = password_step(gateway, user)
    proof = passkey_proof(gateway, device, user.email)
    assert second_step_with(gateway, first["mfa_token"], proof).status == 200

    token_again = second_step_with(
        gateway, first["mfa_token"], passkey_proof(gateway, device, user.email)
    )
    challenge_again = second_step_with(gateway, password_step(gateway, user)["mfa_token"], proof)

    assert (token_again.status, challenge_again.status) == (401, 401)
    assert token_again.json == {"message": "Invalid credentials"}


def test_given_another_users_passkey_when_offered_as_the_second_factor_then_401(
    gateway: GatewayClient, with_totp_and_passkey: tuple[CreatedUser, SoftAuthenticator]
) -> None:
    user, _ = with_totp_and_passkey
    intruder = gateway.register()
    intruder_device = SoftAuthenticator()
    register_passkey(gateway, gateway.login(intruder)["access_token"], intruder_device)
    first = password_step(gateway, user)
    asked = gateway.request("POST", "/auth/passkey/options").json  # discoverable: any passkey

    refused = second_step_with(
        gateway,
        first["mfa_token"],
        {
            "challenge_id": asked["challenge_id"],
            "credential": intruder_device.get(asked["options"]),
        },
    )

    assert refused.status == 401


def test_given_a_passkey_and_no_totp_when_logging_in_with_the_password_then_no_second_step(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    register_passkey(gateway, gateway.login(user)["access_token"], SoftAuthenticator())

    answered = password_step(gateway, user)

    assert "mfa_required" not in answered
    assert claims(answered["access_token"])["amr"] == ["pwd"]


@pytest.mark.parametrize(
    "extra",
    [
        {"code": "123456"},  # two proofs
        {"recovery_code": "abcde-fghij"},
    ],
)
def test_given_a_passkey_proof_with_another_proof_or_half_of_it_then_422(
    gateway: GatewayClient,
    with_totp_and_passkey: tuple[CreatedUser, SoftAuthenticator],
    extra: dict[str, str],
) -> None:
    user, device = with_totp_and_passkey
    mfa_token = password_step(gateway, user)["mfa_token"]
    proof = passkey_proof(gateway, device, user.email)

    both = second_step_with(gateway, mfa_token, {**proof, **extra})
    half = second_step(gateway, mfa_token, challenge_id=proof["challenge_id"])

    assert (both.status, half.status) == (422, 422)
    assert second_step_with(gateway, mfa_token, proof).status == 200  # nothing was spent


@pytest.fixture
def required_policy(gateway: GatewayClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stack's MfaPolicy parameter at ``required``, as every function reads it."""
    original = gateway.invoker.runtime_environment

    def environment(function: Any) -> dict[str, str]:
        values = original(function)
        return {**values, "MFA_POLICY": "required"} if "MFA_POLICY" in values else values

    def reload() -> None:
        for factory in (handle_authorize.mfa_policy, dependencies.mfa_service):
            factory.cache_clear()
        dependencies.auth_service.cache_clear()

    monkeypatch.setattr(gateway.invoker, "runtime_environment", environment)
    reload()
    yield
    monkeypatch.undo()
    reload()


def test_given_required_mfa_when_a_user_enrols_a_passkey_then_password_logins_ask_for_it(
    gateway: GatewayClient, required_policy: None
) -> None:
    user = gateway.register()
    enrolment_only = gateway.login(user)["access_token"]
    assert gateway.request("GET", f"/users/{user.id}", token=enrolment_only).status == 403
    device = SoftAuthenticator(synced=True, counter_step=0)

    register_passkey(gateway, enrolment_only, device)
    first = password_step(gateway, user)
    done = second_step_with(gateway, first["mfa_token"], passkey_proof(gateway, device, user.email))
    signed_in = gateway.request("POST", "/auth/passkey/options").json
    direct = gateway.request(
        "POST",
        "/auth/passkey",
        json={
            "challenge_id": signed_in["challenge_id"],
            "credential": device.get(signed_in["options"]),
        },
    )

    assert (first["mfa_required"], first["methods"]) == (True, ["webauthn"])
    assert claims(done.json["access_token"])["amr"] == ["pwd", "swk"]
    for full in (done.json["access_token"], direct.json["access_token"]):
        assert gateway.request("GET", f"/users/{user.id}", token=full).status == 200


def test_given_mfa_on_when_signing_in_with_a_passkey_alone_then_step_up_is_satisfied(
    gateway: GatewayClient, with_totp_and_passkey: tuple[CreatedUser, SoftAuthenticator]
) -> None:
    user, device = with_totp_and_passkey
    asked = gateway.request("POST", "/auth/passkey/options").json
    signed_in = gateway.request(
        "POST",
        "/auth/passkey",
        json={"challenge_id": asked["challenge_id"], "credential": device.get(asked["options"])},
    )
    password_only = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": user.password}
    ).json

    turned_off = gateway.request(
        "DELETE", "/users/me/mfa/totp", token=signed_in.json["access_token"]
    )

    assert "access_token" not in password_only  # the password alone gets no session
    assert claims(signed_in.json["access_token"])["amr"] == ["hwk", "user"]
    assert turned_off.status == 204, turned_off.text
