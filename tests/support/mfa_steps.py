"""TOTP MFA's steps as the MFA and passkey tests take them through the gateway on moto: enrolment,
the password step, the second step, and reading a token's claims.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import pyotp

from tests.support.api_clients import ApiResponse, CreatedUser, GatewayClient


def fresh_step() -> None:
    """Waits until the current 30-second step has at least 2 s to run and began 1 s ago: a code
    computed now is still the server's current (or previous) one when it arrives."""
    position = time.time() % 30
    if position < 1 or position > 28:
        time.sleep((31 - position) % 30)


@dataclass
class Enrolled:
    user: CreatedUser
    totp: pyotp.TOTP
    recovery_codes: list[str]
    enrolment_token: str
    """The access token of the password-only session that enrolled."""
    device_token: str
    """The owner's device, trusted by the enrolling login."""


def enrol(gateway: GatewayClient, user: CreatedUser | None = None) -> Enrolled:
    """Enrols TOTP, confirming with the previous step's code so that the current one can log in."""
    user = user or gateway.register()
    login = gateway.login(user)
    token = login["access_token"]
    started = gateway.request("POST", "/users/me/mfa/totp", token=token)
    assert started.status == 200, started.text
    totp = pyotp.TOTP(started.json["secret"])
    fresh_step()
    confirmed = gateway.request(
        "POST",
        "/users/me/mfa/totp/confirm",
        json={"code": totp.at(time.time() - 30)},
        token=token,
    )
    assert confirmed.status == 200, confirmed.text
    return Enrolled(user, totp, confirmed.json["recovery_codes"], token, login["device_token"])


def password_step(gateway: GatewayClient, user: CreatedUser) -> dict[str, Any]:
    response = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": user.password}
    )
    assert response.status == 200, response.text
    body: dict[str, Any] = response.json
    return body


def second_step(gateway: GatewayClient, mfa_token: str, **proof: str) -> ApiResponse:
    return gateway.request("POST", "/auth/mfa", json={"mfa_token": mfa_token, **proof})


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded
