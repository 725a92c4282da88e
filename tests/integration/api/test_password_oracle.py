"""No route checks a stored password faster than login: idempotent registration replays and the
current password of a password change count failures and honour the throttle."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.sessions import AuthPolicy
from tests.support.api_clients import ApiResponse, GatewayClient

LIMIT = AuthPolicy().throttle.free_failures
WRONG = "not the registered passphrase"


def _register(gateway: GatewayClient, key: str, password: str) -> ApiResponse:
    return gateway.request(
        "POST",
        "/users",
        json={"email": f"{key}@example.com", "password": password, "name": "Replay"},
        headers={"idempotency-key": key},
    )


@pytest.fixture
def registered(gateway: GatewayClient) -> dict[str, Any]:
    key = uuid.uuid4().hex
    password = "the registered passphrase"
    created = _register(gateway, key, password)
    assert created.status == 201, created.text
    return {"key": key, "password": password, "id": created.json["id"]}


def test_given_replays_with_wrong_passwords_when_the_limit_is_reached_then_login_is_throttled(
    gateway: GatewayClient, registered: dict[str, Any]
) -> None:
    replies = [_register(gateway, registered["key"], WRONG) for _ in range(LIMIT)]

    assert [reply.status for reply in replies] == [422] * LIMIT
    assert "locked_until" in gateway.user_item(registered["id"])
    login = gateway.request(
        "POST",
        "/auth/login",
        json={"email": f"{registered['key']}@example.com", "password": registered["password"]},
    )
    assert login.status == 429
    assert int(login.headers["retry-after"]) > 0


def test_given_a_locked_account_when_replayed_then_the_same_answer_whatever_the_password(
    gateway: GatewayClient, registered: dict[str, Any]
) -> None:
    wrong_login = {"email": f"{registered['key']}@example.com", "password": WRONG}
    for _ in range(LIMIT):
        gateway.request("POST", "/auth/login", json=wrong_login)

    right = _register(gateway, registered["key"], registered["password"])
    wrong = _register(gateway, registered["key"], WRONG)

    assert (right.status, right.json) == (wrong.status, wrong.json)
    assert right.status == 422


def test_given_a_replay_with_the_right_password_when_not_locked_then_the_same_201(
    gateway: GatewayClient, registered: dict[str, Any]
) -> None:
    _register(gateway, registered["key"], WRONG)

    again = _register(gateway, registered["key"], registered["password"])

    assert again.status == 201
    assert again.json["id"] == registered["id"]


def test_given_wrong_current_passwords_when_changing_the_password_then_they_throttle_the_account(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]

    def change(current: str) -> ApiResponse:
        return gateway.request(
            "PATCH",
            "/users/me",
            json={"password": "a brand new passphrase", "current_password": current},
            token=token,
        )

    wrong = [change(WRONG) for _ in range(LIMIT)]
    right_while_locked = change(user.password)

    assert [reply.status for reply in wrong] == [403] * LIMIT
    assert (right_while_locked.status, right_while_locked.json) == (wrong[0].status, wrong[0].json)
    assert "locked_until" in gateway.user_item(user.id)
