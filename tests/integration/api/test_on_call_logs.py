"""What an on-call engineer finds in the functions' logs: a request that failed with a bug, on one
line with the API's request id (the access log's and the `apigw-requestid` header's) and the
caller; and the security outcomes (a lockout, a reset mailed) by user id, never by address."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from adapters.user_items import user_key
from handlers import handle_get_user
from tests.support.api_clients import ApiClient, GatewayClient, UserFactory
from userflow.stack import Stack


def test_given_a_corrupt_user_item_when_read_then_the_error_is_logged_with_request_and_caller(
    stack: Stack,
    api: ApiClient,
    make_user: UserFactory,
    function_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    user = make_user()
    stack.client("dynamodb").update_item(
        TableName=stack.physical_id("UserRegistrationTable"),
        Key=user_key(user.id),
        UpdateExpression="SET created_at = :garbage",
        ExpressionAttributeValues={":garbage": {"S": "garbage"}},
    )

    with pytest.raises(ValueError, match="created_at"):  # Lambda's error: API Gateway's 500
        api.request("GET", "/users/me", caller=user.caller)

    [error] = [line for line in function_logs() if line["level"] == "ERROR"]
    assert error["message"] == "Unhandled error"
    assert error["correlation_id"] == api.last_request_id
    assert error["user_id"] == user.id
    assert "created_at" in error["exception"]


def test_given_a_caller_logged_for_one_request_when_the_next_fails_first_then_it_names_nobody(
    api: ApiClient,
    make_user: UserFactory,
    function_logs: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user()
    assert api.request("GET", "/users/me", caller=user.caller).status == 200

    def broken() -> None:
        raise RuntimeError("no service today")

    monkeypatch.setattr(handle_get_user, "user_service", broken)  # fails before the caller is read
    with pytest.raises(RuntimeError):
        api.request("GET", "/users/me", caller=user.caller)

    [error] = [line for line in function_logs() if line["level"] == "ERROR"]
    assert error["message"] == "Unhandled error"
    assert "user_id" not in error  # the previous request's caller is not this one's


def test_given_a_lockout_and_a_reset_when_on_call_reads_the_logs_then_each_names_the_user(
    gateway: GatewayClient, function_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    user = gateway.register()
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(6):
        gateway.request("POST", "/auth/login", json=wrong)
    gateway.request("POST", "/auth/forgot-password", json={"email": user.email})

    lines = function_logs()

    by_outcome = {line["message"]: line for line in lines if "outcome" in line}
    assert by_outcome["LoginThrottled"]["level"] == "WARNING"
    assert by_outcome["LoginThrottled"]["user_id"] == user.id
    assert by_outcome["PasswordResetMailed"]["user_id"] == user.id
    assert all(user.email not in json.dumps(line) for line in lines)


def test_given_the_warning_outcomes_when_named_then_they_are_the_domains_own() -> None:
    from domain.auth_service import LOGIN_THROTTLED, PASSWORD_RESET_REQUIRED
    from domain.passkey_assertions import PASSKEY_CLONE_DETECTED
    from domain.sessions import REFRESH_REUSE_DETECTED
    from handlers.dependencies import WARNING_OUTCOMES

    assert {
        LOGIN_THROTTLED,
        PASSWORD_RESET_REQUIRED,
        REFRESH_REUSE_DETECTED,
        PASSKEY_CLONE_DETECTED,
    } == WARNING_OUTCOMES
