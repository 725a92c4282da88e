"""Login throttling under concurrency, against the real table (moto).

Every attempt of a parallel burst reads the account before any of them has been counted. Unless
the success is checked against the count again when it is recorded, a burst of N guesses gets N
verdicts instead of the 5 the throttle allows before its first wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.dynamodb_devices import DynamoDBDeviceRepository
from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_session_repository import DynamoDBSessionRepository
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.user_items import user_key
from domain.auth_service import LOGIN_THROTTLED, AuthService
from domain.errors import AuthenticationFailed
from domain.passwords import PasswordHasher
from domain.sessions import AuthPolicy
from domain.signing_keys import new_key_set
from domain.tokens import TokenIssuer, TokenSettings
from domain.users import UserAccount
from tests.support.api_clients import CreatedUser, GatewayClient

POLICY = AuthPolicy()


class _StaleUsers:
    """The user repository as a request of the burst saw it: the account read before the other
    guesses were counted."""

    def __init__(self, users: DynamoDBUserRepository, snapshot: UserAccount) -> None:
        self._users, self._snapshot = users, snapshot

    def find_by_email(self, email: str) -> UserAccount:
        return self._snapshot

    def __getattr__(self, name: str) -> Any:
        return getattr(self._users, name)


def _service_reading(
    gateway: GatewayClient, snapshot: UserAccount, metrics: list[str]
) -> AuthService:
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db)
    issuer = TokenIssuer(new_key_set().current, TokenSettings(issuer="urn:t", audience="urn:t:a"))
    return AuthService(
        users=_StaleUsers(users, snapshot),
        login_state=DynamoDBLoginState(gateway.table),
        sessions=DynamoDBSessionRepository(gateway.table),
        devices=DynamoDBDeviceRepository(gateway.table),
        hasher=PasswordHasher(),
        issuer=lambda: issuer,
        policy=POLICY,
        record_metric=lambda name, **_: metrics.append(name),
    )


def _guess_wrong_until_throttled(gateway: GatewayClient, user: CreatedUser) -> None:
    wrong = {"email": user.email, "password": "not the password"}
    free = POLICY.throttle.free_failures
    statuses = [gateway.request("POST", "/auth/login", json=wrong).status for _ in range(free)]
    assert statuses == [401] * (free - 1) + [429]


def _one_guess_counted(gateway: GatewayClient, user: CreatedUser) -> None:
    """A single wrong guess counted after the account was read: no wait yet, but a verdict."""
    wrong = {"email": user.email, "password": "not the password"}
    assert gateway.request("POST", "/auth/login", json=wrong).status == 401


@pytest.mark.parametrize("concurrent_guesses", [_guess_wrong_until_throttled, _one_guess_counted])
def test_given_guesses_counted_after_the_account_was_read_when_logging_in_then_401(
    gateway: GatewayClient, concurrent_guesses: Callable[[GatewayClient, CreatedUser], None]
) -> None:
    user = gateway.register()
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db)
    snapshot = users.get(user.id)
    concurrent_guesses(gateway, user)
    metrics: list[str] = []

    with pytest.raises(AuthenticationFailed):
        _service_reading(gateway, snapshot, metrics).login(user.email, user.password)

    assert metrics == [LOGIN_THROTTLED]


def test_given_an_account_read_before_its_password_changed_when_the_old_password_is_used_then_401(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db)
    snapshot = users.get(user.id)
    gateway.db.update_item(
        TableName=gateway.table,
        Key=user_key(user.id),
        UpdateExpression="SET password_hash = :changed",
        ExpressionAttributeValues={":changed": {"S": PasswordHasher().hash("a new passphrase")}},
    )

    with pytest.raises(AuthenticationFailed):
        _service_reading(gateway, snapshot, []).login(user.email, user.password)


def test_given_a_few_failures_when_the_password_is_right_then_200_and_the_counter_is_cleared(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(POLICY.throttle.free_failures - 1):
        gateway.request("POST", "/auth/login", json=wrong)

    gateway.login(user)

    assert gateway.user_item(user.id)["failed_logins"] == {"N": "0"}
