"""Access tokens say how their session began (``typ``, ``auth_time``, ``amr``, ``sid``), through
the template's authorizer with real tokens; recent authentication on the handlers:
test_recent_authentication.py."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from domain.signing_keys import SigningKeySet
from tests.support.api_clients import GatewayClient


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _signing_keys(gateway: GatewayClient) -> SigningKeySet:
    secrets = gateway.stack.client("secretsmanager")
    text = secrets.get_secret_value(SecretId=gateway.stack.physical_id("SigningKeySecret"))
    keys = SigningKeySet.parse(text["SecretString"])
    assert keys is not None
    return keys


# ---------------------------------------------------------------- what tokens say
def test_given_a_login_when_its_token_is_read_then_typed_with_the_login_time_and_method(
    gateway: GatewayClient,
) -> None:
    before = int(time.time())
    tokens = gateway.login(gateway.register())

    header = jwt.get_unverified_header(tokens["access_token"])
    claims = _claims(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert before <= claims["auth_time"] <= claims["iat"]
    assert claims["amr"] == ["pwd"]
    assert claims["sid"]


def test_given_a_refresh_when_the_new_token_is_read_then_the_login_time_methods_and_session_stay(
    gateway: GatewayClient,
) -> None:
    tokens = gateway.login(gateway.register())
    time.sleep(1.1)  # iat moves on, auth_time must not

    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert refreshed.status == 200
    first, second = _claims(tokens["access_token"]), _claims(refreshed.json["access_token"])
    assert second["iat"] > first["iat"]
    assert (second["auth_time"], second["amr"], second["sid"]) == (
        first["auth_time"],
        first["amr"],
        first["sid"],
    )


def test_given_two_logins_when_their_tokens_are_read_then_each_has_its_own_session(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()

    one, two = gateway.login(user), gateway.login(user)

    assert _claims(one["access_token"])["sid"] != _claims(two["access_token"])["sid"]


@pytest.mark.parametrize("typ", ["JWT", "JWS", "id+jwt"])
def test_given_a_token_signed_with_the_stacks_key_but_not_typed_at_jwt_then_the_authorizer_denies(
    gateway: GatewayClient, typ: str
) -> None:
    """Correctly signed, every claim right: still not an access token (RFC 9068 section 4).
    (A header with no ``typ`` at all: tests/unit/domain/test_tokens.py.)"""
    user = gateway.register()
    claims = _claims(gateway.login(user)["access_token"])
    key = _signing_keys(gateway).current
    private = jwt.PyJWK(key.private_jwk, algorithm="ES256").key
    retyped = jwt.encode(claims, private, algorithm="ES256", headers={"kid": key.kid, "typ": typ})

    response = gateway.request("GET", "/users/me", token=retyped)

    assert (response.status, response.json) == (403, {"message": "Forbidden"})


def test_given_a_fresh_login_when_deleting_your_account_without_a_password_then_204(
    gateway: GatewayClient,
) -> None:
    tokens = gateway.login(gateway.register())

    assert gateway.request("DELETE", "/users/me", token=tokens["access_token"]).status == 204
