"""One canonical identity per person, through the API: look-alikes of a registered address are
refused or collide, and accounts stored before the rules still log in."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.passwords import PasswordHasher
from domain.users import User, UserAccount
from tests.support.api_clients import GatewayClient

PASSWORD = "correct horse battery staple"


def _register(gateway: GatewayClient, email: str) -> int:
    body = {"email": email, "password": PASSWORD, "name": "Ann"}
    return gateway.request("POST", "/users", json=body).status


def test_given_a_registered_address_when_a_variant_registers_then_409_or_422(
    gateway: GatewayClient,
) -> None:
    assert _register(gateway, "ann@b\u00fccher.de") == 201

    same_person = [
        "ANN@B\u00dcCHER.DE",
        "ann@xn--bcher-kva.de",
        "\uff41\uff4e\uff4e@b\u00fccher.de",
    ]
    look_alike = ["\u0430nn@b\u00fccher.de", "a\u200bnn@b\u00fccher.de", "ann@b\u00fccher.de."]

    assert [_register(gateway, email) for email in same_person] == [409, 409, 409]
    assert [_register(gateway, email) for email in look_alike] == [422, 422, 422]


def test_given_an_account_stored_before_the_rules_when_logging_in_then_200(
    gateway: GatewayClient,
) -> None:
    now = datetime.now(UTC)
    legacy = "old@xn--bcher-kva.de"  # stored as typed, lower-cased: the former canonical form
    user = User(id="legacy-user", email=legacy, name="Old", created_at=now, updated_at=now)
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db)
    users.add(UserAccount(user=user, password_hash=PasswordHasher().hash(PASSWORD)))

    response = gateway.request(
        "POST", "/auth/login", json={"email": "Old@XN--BCHER-KVA.de", "password": PASSWORD}
    )

    assert response.status == 200, response.text


def test_given_a_password_hashed_before_normalization_when_logging_in_then_200_and_rehashed(
    gateway: GatewayClient,
) -> None:
    now = datetime.now(UTC)
    typed = "\ufb01ne \u2460\u2461 passphrase"  # NFKC: "fine 12 passphrase"
    user = User(id="pre-nfkc", email="pre@example.com", name="Pre", created_at=now, updated_at=now)
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db)
    users.add(UserAccount(user=user, password_hash=PasswordHasher().hash(typed)))

    first = gateway.request("POST", "/auth/login", json={"email": user.email, "password": typed})

    assert first.status == 200, first.text
    stored = gateway.user_item(user.id)["password_hash"]["S"]
    assert PasswordHasher().verify("fine 12 passphrase", stored)
    again = {"email": user.email, "password": "fine 12 passphrase"}
    assert gateway.request("POST", "/auth/login", json=again).status == 200
