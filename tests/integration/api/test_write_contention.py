"""Writes that meet another transaction on the same item: sent again, then a 409, never a 500.

Moto never reports contention, so its backend answers the first attempts as DynamoDB does (a
``TransactionCanceledException`` with the reason ``TransactionConflict``, or a single-item
``TransactionConflictException``); the attempts after those are served as usual."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.exceptions import DynamodbException, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from adapters.dynamodb_conflicts import ATTEMPTS
from tests.support.api_clients import ApiClient, UserFactory


class _TransactionConflictException(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
            "Operation was rejected because there is an ongoing transaction for the item",
        )


def _contended(monkeypatch: pytest.MonkeyPatch, operation: str, times: int) -> list[int]:
    """The next ``times`` calls of the backend's ``operation`` meet contention; the returned
    list counts every call."""
    calls: list[int] = []
    original = getattr(DynamoDBBackend, operation)

    def contended(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            if operation == "transact_write_items":
                reasons = [("TransactionConflict", "Transaction is ongoing for the item", None)]
                raise TransactionCanceledException([*reasons, (None, None, None)])
            raise _TransactionConflictException
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, operation, contended)
    return calls


@pytest.fixture(autouse=True)
def _fresh_services() -> Iterator[None]:
    """Services made by an earlier test hold clients of its moto account."""
    from adapters.aws_clients import forget_clients
    from handlers import dependencies

    def forget() -> None:
        forget_clients()
        for factory in (
            dependencies.user_repository,
            dependencies.login_state,
            dependencies.user_service,
            dependencies.auth_service,
        ):
            factory.cache_clear()

    forget()
    yield
    forget()


def test_given_a_conflict_once_when_patching_then_the_write_is_sent_again_and_succeeds(
    api: ApiClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    calls = _contended(monkeypatch, "transact_write_items", times=1)

    response = api.request("PATCH", "/users/me", json={"name": "Ann Again"}, caller=user.caller)

    assert response.status == 200, response.text
    assert response.json["name"] == "Ann Again"
    assert len(calls) == 2


def test_given_a_record_contended_longer_than_the_retries_when_patching_then_409(
    api: ApiClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    calls = _contended(monkeypatch, "transact_write_items", times=ATTEMPTS)

    response = api.request("PATCH", "/users/me", json={"name": "Ann Again"}, caller=user.caller)
    after = api.request("GET", "/users/me", caller=user.caller)

    assert response.status == 409, response.text
    assert "another request" in response.json["message"]
    assert len(calls) == ATTEMPTS
    assert after.json["name"] != "Ann Again"


def test_given_a_single_item_write_contended_when_a_login_fails_then_409_not_500(
    api: ApiClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed login counts on the user item (UpdateItem) while, say, a PATCH is in flight."""
    user = make_user()
    calls = _contended(monkeypatch, "update_item", times=ATTEMPTS)

    response = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": "not the password"}
    )

    assert response.status == 409, response.text
    assert len(calls) == ATTEMPTS
