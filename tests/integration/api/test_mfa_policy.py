"""``MfaPolicy`` through the template's routes and Lambda authorizer: where the policy covers a
user who has not enrolled, login gives tokens that may only enrol; enrolled, the user logs in
with the second factor for a full session; covered users cannot turn MFA off themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from handlers import dependencies, handle_authorize
from tests.integration.api.test_mfa_flow import fresh_step, password_step, second_step
from tests.support.api_clients import GatewayClient


@pytest.fixture
def policy(gateway: GatewayClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``set(value)``: the stack's MfaPolicy parameter, as every function reads it."""
    chosen = {"value": "optional"}
    original = gateway.invoker.runtime_environment

    def environment(function: Any) -> dict[str, str]:
        values = original(function)
        return {**values, "MFA_POLICY": chosen["value"]} if "MFA_POLICY" in values else values

    def choose(value: str) -> None:
        chosen["value"] = value
        handle_authorize.mfa_policy.cache_clear()
        dependencies.mfa_service.cache_clear()

    monkeypatch.setattr(gateway.invoker, "runtime_environment", environment)
    yield choose
    choose("optional")


def test_given_required_and_not_enrolled_then_tokens_only_enrol_until_a_login_with_the_code(
    gateway: GatewayClient, policy: Any
) -> None:
    policy("required")
    user = gateway.register()
    tokens = gateway.login(user)
    token = tokens["access_token"]

    assert gateway.request("GET", f"/users/{user.id}", token=token).status == 403
    assert gateway.request("PATCH", "/users/me", json={"name": "X"}, token=token).status == 403
    assert gateway.request("GET", "/users/me", token=token).status == 200
    assert gateway.request("GET", "/users/me/mfa", token=token).status == 200
    started = gateway.request("POST", "/users/me/mfa/totp", token=token)
    assert started.status == 200
    totp = pyotp.TOTP(started.json["secret"])
    fresh_step()
    confirm = {"code": totp.at(time.time() - 30)}
    assert (
        gateway.request("POST", "/users/me/mfa/totp/confirm", json=confirm, token=token).status
        == 200
    )

    # Refreshing keeps the session's amr: still enrolment-only.
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    ).json["access_token"]
    assert gateway.request("GET", f"/users/{user.id}", token=refreshed).status == 403

    full = second_step(gateway, password_step(gateway, user)["mfa_token"], code=totp.now())
    assert full.status == 200, full.text
    assert (
        gateway.request("GET", f"/users/{user.id}", token=full.json["access_token"]).status == 200
    )
    # Covered by the policy: the user cannot turn MFA off (an admin's reset can).
    off = gateway.request("DELETE", "/users/me/mfa/totp", token=full.json["access_token"])
    assert off.status == 409


def test_given_required_for_admins_then_only_admins_without_a_factor_are_restricted(
    gateway: GatewayClient, policy: Any
) -> None:
    policy("required-for-admins")
    user, admin = gateway.register(), gateway.register(admin=True)
    user_token = gateway.login(user)["access_token"]
    admin_token = gateway.login(admin)["access_token"]

    assert gateway.request("GET", f"/users/{user.id}", token=user_token).status == 200
    assert gateway.request("GET", "/users", token=admin_token).status == 403
    assert gateway.request("GET", "/users/me/mfa", token=admin_token).status == 200
    assert (
        gateway.request("POST", "/auth/logout", json={"all": True}, token=admin_token).status == 204
    )


def test_given_optional_then_a_password_only_token_goes_everywhere_it_did(
    gateway: GatewayClient, policy: Any
) -> None:
    policy("optional")
    admin = gateway.register(admin=True)
    token = gateway.login(admin)["access_token"]

    assert gateway.request("GET", "/users", token=token).status == 200
