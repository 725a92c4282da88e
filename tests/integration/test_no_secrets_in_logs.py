"""Whatever the handlers log, at any level, never carries a password or its hash."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from handlers.observability import logger
from tests.integration.conftest import ApiClient, UserFactory


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
