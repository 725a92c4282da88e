"""Recovery links and lockouts racing with the account changes they depend on, made to happen
inside the other request's read-to-write window (patching the slow step it takes there)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.account_recovery import AccountRecoveryService
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.users import User, UserAccount
from tests.support.api_clients import GatewayClient
from tests.support.mailbox import Mailbox

INVALID_LINK = {"message": "The link is invalid or has expired; ask for a new one"}


@pytest.fixture
def mailbox(gateway: GatewayClient) -> Mailbox:
    return Mailbox(gateway.stack, gateway.invoker)


def test_given_a_reset_link_requested_while_the_email_changes_when_used_then_400(
    gateway: GatewayClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An email change kills both links (docs/api/recovery.md), one issued while the change was
    being made included: else the old mailbox could reset the password of the account that left
    it."""
    user = gateway.register()
    access = gateway.login(user)["access_token"]
    new_email = f"moved-{user.email}"
    prove = PasswordGuard.prove
    requested: list[int] = []

    def prove_while_a_reset_is_requested(self: PasswordGuard, account: Any, password: str) -> Any:
        verdict = prove(self, account, password)
        if not requested:  # between the PATCH's read and its write
            answer = gateway.request("POST", "/auth/forgot-password", json={"email": user.email})
            requested.append(answer.status)
        return verdict

    monkeypatch.setattr(PasswordGuard, "prove", prove_while_a_reset_is_requested)
    changed = gateway.request(
        "PATCH",
        "/users/me",
        json={"email": new_email, "current_password": user.password},
        token=access,
    )
    monkeypatch.setattr(PasswordGuard, "prove", prove)
    assert requested == [202]
    assert changed.status == 200, changed.text
    (reset_mail,) = [m for m in mailbox.to(user.email) if m.subject == "Reset your password"]
    link_to_old_address = reset_mail.token

    reset = gateway.request(
        "POST",
        "/auth/reset-password",
        json={"token": link_to_old_address, "password": "the old mailbox owner's passphrase"},
    )

    assert (reset.status, reset.json if reset.text else None) == (400, INVALID_LINK)


def _store_as_before_the_rules(gateway: GatewayClient, address: str, password: str) -> None:
    """An account as registration stored it before the identity rules: the address as typed,
    lower-cased, checked only for its shape (models built unvalidated, as the rules would now
    refuse some of these addresses)."""
    now = datetime.now(UTC)
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in User.model_fields.items()
        if not field.is_required()
    }
    user = User.model_construct(
        **{**defaults, "id": f"legacy-{address}", "email": address, "name": "Old"},
        created_at=now,
        updated_at=now,
    )
    account = UserAccount.model_construct(
        **{
            name: field.get_default(call_default_factory=True)
            for name, field in UserAccount.model_fields.items()
            if not field.is_required()
        },
        user=user,
        password_hash=PasswordHasher().hash(password),
    )
    DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"unused", db=gateway.db).add(account)


@pytest.mark.parametrize(
    "legacy",
    [
        "old@xn--bcher-kva.de",  # the former canonical form of a domain now spelled in Unicode
        "old@corp.local",  # a special-use domain the rules now refuse
        "p\u0430ypal@example.com",  # a Cyrillic "a" among Latin letters
        "john..doe@example.com",  # two dots in a row
    ],
)
def test_given_an_account_stored_before_the_rules_when_forgetting_its_password_then_a_link(
    gateway: GatewayClient, mailbox: Mailbox, legacy: str
) -> None:
    """Accounts stored before the identity rules keep working (docs/api/recovery.md):
    forgot-password takes any address that login finds, and looks it up by its former form too."""
    _store_as_before_the_rules(gateway, legacy, "a forgotten passphrase")
    login = {"email": legacy, "password": "a forgotten passphrase"}
    assert gateway.request("POST", "/auth/login", json=login).status == 200  # login finds it

    answer = gateway.request("POST", "/auth/forgot-password", json={"email": legacy})

    assert answer.status == 202, answer.text
    assert [m.subject for m in mailbox.to(legacy)] == ["Reset your password"]


def test_given_something_no_rules_ever_took_for_an_address_when_forgetting_then_422(
    gateway: GatewayClient,
) -> None:
    too_long = f"a@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 63}.example"  # legacy shape, 265 long
    for typed in ("no-at-sign", "two@@example.com", "a b@example.com", "ann@localhost", too_long):
        answer = gateway.request("POST", "/auth/forgot-password", json={"email": typed})

        assert answer.status == 422, typed


def test_given_guesses_lock_the_account_while_a_reset_runs_when_it_ends_then_no_lock_remains(
    gateway: GatewayClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset clears the login throttle (CONTRACT), one that guesses at the old password set
    while the new one was being hashed included."""
    user = gateway.register()
    gateway.request("POST", "/auth/forgot-password", json={"email": user.email})
    token = mailbox.last_token(user.email)
    new_hash = AccountRecoveryService.new_password_hash

    def hash_while_guesses_lock_the_account(self: Any, password: str, email: str) -> str:
        wrong = {"email": user.email, "password": "a wrong guess!"}
        # A brute-force run against the old password, meanwhile, until the account waits.
        statuses = [gateway.request("POST", "/auth/login", json=wrong).status for _ in range(5)]
        assert statuses == [401] * 4 + [429]
        assert "locked_until" in gateway.user_item(user.id)
        return new_hash(self, password, email)

    monkeypatch.setattr(
        AccountRecoveryService, "new_password_hash", hash_while_guesses_lock_the_account
    )
    reset = gateway.request(
        "POST", "/auth/reset-password", json={"token": token, "password": "a brand new passphrase"}
    )
    monkeypatch.setattr(AccountRecoveryService, "new_password_hash", new_hash)
    assert reset.status == 204, reset.text

    login = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": "a brand new passphrase"}
    )

    assert (login.status, "locked_until" in gateway.user_item(user.id)) == (200, False)
