"""Login throttling, device tokens and per-source limits through the template's routes, as API
Gateway runs them (the e2e tests drive the same over real HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api_clients import CreatedUser, GatewayClient

WRONG = "not the password at all"


def _login(
    gateway: GatewayClient,
    user: CreatedUser,
    password: str,
    source: str = "198.51.100.1",
    **extra: Any,
) -> Any:
    body = {"email": user.email, "password": password, **extra}
    return gateway.request("POST", "/auth/login", json=body, source_ip=source)


@pytest.mark.parametrize(
    ("device_token", "statuses"),
    [
        (None, {200}),
        ("never-issued", {200}),
        ("\u00e9t\u00e9 \u202e\u200b", {200}),
        ("x" * 256, {200}),
        ("x" * 257, {422}),
        ("", {422}),
        (12345, {422}),
        (True, {422}),
        (["a-token"], {422}),
        ({"token": "a"}, {422}),
        ("\ud800", {400, 422}),
        ("a\u0000b", {200, 422}),
    ],
    ids=repr,
)
def test_given_any_device_token_when_logging_in_then_a_4xx_or_the_login_never_a_5xx(
    gateway: GatewayClient, device_token: object, statuses: set[int]
) -> None:
    user = gateway.register()

    response = _login(gateway, user, user.password, device_token=device_token)

    assert response.status in statuses, response.text[:300]
    if response.status == 200:
        assert response.json["device_token"] not in (device_token, None)
    else:
        assert set(response.json) <= {"message", "details"}


def test_given_a_throttled_account_when_logging_in_then_429_with_retry_after_and_no_token(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    for number in range(5):
        _login(gateway, user, WRONG, source=f"198.51.100.{number + 10}")

    throttled = _login(gateway, user, user.password, source="198.51.100.99")

    assert throttled.status == 429
    assert throttled.json == {"message": "Too many failed logins; try again later"}
    assert 0 < int(throttled.headers["retry-after"]) <= 30
    assert "access_token" not in throttled.text


def test_given_failures_from_one_ipv6_64_then_every_address_in_it_is_refused_not_others(
    gateway: GatewayClient,
) -> None:
    users = [gateway.register() for _ in range(21)]
    answers = [
        _login(gateway, user, WRONG, source=f"2001:db8:1:2::{index + 1:x}").status
        for index, user in enumerate(users)
    ]

    neighbour = _login(gateway, users[0], users[0].password, source="2001:db8:1:2:ffff::1")
    elsewhere = _login(gateway, users[0], users[0].password, source="2001:db8:1:3::1")

    assert answers == [401] * 20 + [429]
    assert neighbour.status == 429
    assert int(neighbour.headers["retry-after"]) > 0
    assert elsewhere.status == 200


def _register(gateway: GatewayClient, email: str, source: str) -> int:
    body = {"email": email, "password": "correct horse battery staple", "name": "N"}
    return gateway.request("POST", "/users", json=body, source_ip=source).status


def test_given_registrations_from_one_source_then_429_after_the_limit(
    gateway: GatewayClient,
) -> None:
    spree = [_register(gateway, f"new{n}@example.com", "203.0.113.5") for n in range(11)]

    assert spree == [201] * 10 + [429]  # RegistrationsPerSource


def test_given_taken_emails_and_wrong_logins_from_one_source_then_they_add_up_to_its_limit(
    gateway: GatewayClient,
) -> None:
    """Registration's 409 answers which emails exist: each is a failure of the source, with the
    logins' 401s, so probing stops at SourceFailureLimit whichever route it uses."""
    users = [gateway.register() for _ in range(12)]

    probes = [_register(gateway, users[0].email, "203.0.113.6") for _ in range(9)]
    guesses = [_login(gateway, user, WRONG, source="203.0.113.6").status for user in users[:11]]
    after = _login(gateway, users[11], users[11].password, source="203.0.113.6")

    assert probes == [409] * 9
    assert guesses == [401] * 11
    assert after.status == 429
    assert after.json == {"message": "Too many requests; try again later"}
