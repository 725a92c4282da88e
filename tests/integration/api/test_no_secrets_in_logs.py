"""Whatever the handlers log, at any level, never carries a password or its hash."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from handlers.observability import logger
from tests.support.api_clients import ApiClient, GatewayClient, UserFactory
from tests.support.mailbox import Mailbox


@pytest.fixture
def debug_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[Callable[[], str]]:
    previous = logger.log_level
    logger.setLevel("DEBUG")
    # What the functions themselves emit: Powertools' loggers, at the most verbose level.
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")
    yield lambda: capsys.readouterr().out + capsys.readouterr().err + caplog.text
    logger.setLevel(previous)


def test_given_debug_logging_when_users_register_change_password_and_list_then_no_secret_is_logged(
    api: ApiClient, make_user: UserFactory, debug_logs: Callable[[], str]
) -> None:
    admin = make_user(admin=True)
    created = api.request(
        "POST",
        "/users",
        json={"email": "log@example.com", "password": "secret passphrase one", "name": "L"},
        headers={"Idempotency-Key": "log-key"},
    )
    user = make_user()
    api.request(
        "PATCH",
        "/users/me",
        json={"password": "secret passphrase two", "current_password": user.password},
        caller=user.caller,
    )
    api.request("GET", "/users?limit=50", caller=admin.caller)
    api.request("POST", "/users", body=b'{"password": "secret passphrase three"')

    output = debug_logs()

    assert created.status == 201
    assert "UserRegistered" in output  # the capture sees what the handlers print
    for secret in ("secret passphrase", user.password, "$argon2id$", "password_hash"):
        assert secret not in output


def test_given_debug_logging_when_links_are_mailed_and_used_then_no_token_is_logged(
    gateway: GatewayClient, debug_logs: Callable[[], str]
) -> None:
    mailbox = Mailbox(gateway.stack, gateway.invoker)
    user = gateway.register()
    verification = mailbox.last_token(user.email)
    gateway.request("POST", "/auth/verify-email", json={"token": verification})
    gateway.request("POST", "/auth/verify-email", json={"token": verification})  # used: 400
    gateway.request("POST", "/auth/forgot-password", json={"email": user.email})
    reset = mailbox.last_token(user.email)
    answer = gateway.request(
        "POST", "/auth/reset-password", json={"token": reset, "password": "new passphrase 2"}
    )

    output = debug_logs()

    assert answer.status == 204
    assert "Mail sent" in output  # the capture sees what the mailer logs
    for secret in (verification, reset, "new passphrase 2", "reset_token_hash"):
        assert secret not in output
    assert verification.rpartition(".")[2] not in output
