"""Email verification and password reset through the template's routes, the mail outbox, the
mailer and moto's SES (issue 10)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.user_items import user_key
from domain.mail import SYNTHETIC_EMAIL_DOMAIN
from tests.support.api_clients import CreatedUser, GatewayClient
from tests.support.mailbox import Mailbox

INVALID_LINK = {"message": "The link is invalid or has expired; ask for a new one"}


@pytest.fixture
def mailbox(gateway: GatewayClient) -> Mailbox:
    return Mailbox(gateway.stack, gateway.invoker)


def _verify(gateway: GatewayClient, token: object) -> Any:
    return gateway.request("POST", "/auth/verify-email", json={"token": token})


def _forgot(gateway: GatewayClient, email: str) -> Any:
    return gateway.request("POST", "/auth/forgot-password", json={"email": email})


def _reset(gateway: GatewayClient, token: str, password: str) -> Any:
    return gateway.request(
        "POST", "/auth/reset-password", json={"token": token, "password": password}
    )


def _me(gateway: GatewayClient, user: CreatedUser) -> dict[str, Any]:
    tokens = gateway.login(user)
    body: dict[str, Any] = gateway.request("GET", "/users/me", token=tokens["access_token"]).json
    return body


# ---------------------------------------------------------------- email verification
def test_given_a_registration_when_the_mailed_link_is_used_then_email_verified_once(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    assert _me(gateway, user)["email_verified"] is False
    [mail] = mailbox.to(user.email)
    assert mail.subject == "Confirm your email address"
    assert "https://app.example.com/verify-email?token=" in mail.text

    first = _verify(gateway, mail.token)
    again = _verify(gateway, mail.token)

    assert first.status == 204
    assert _me(gateway, user)["email_verified"] is True
    assert (again.status, again.json) == (400, INVALID_LINK)
    updates = [e for e in gateway.lifecycle_events() if e.detail_type == "UserUpdated"]
    assert [e.detail.changed_fields for e in updates] == [["email_verified"]]


def test_given_a_resend_when_both_links_are_tried_then_only_the_newest_works(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    first = mailbox.last_token(user.email)
    access = gateway.login(user)["access_token"]

    resent = gateway.request("POST", "/auth/verify-email/resend", token=access)
    second = mailbox.last_token(user.email)

    assert resent.status == 202
    assert second != first
    assert (_verify(gateway, first).status, _verify(gateway, first).json) == (400, INVALID_LINK)
    assert _verify(gateway, second).status == 204


def test_given_many_resends_when_over_the_limit_then_429_and_no_more_mail(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    access = gateway.login(user)["access_token"]

    statuses = [
        gateway.request("POST", "/auth/verify-email/resend", token=access).status for _ in range(5)
    ]

    assert statuses == [202, 202, 202, 429, 429]
    assert len(mailbox.to(user.email)) == 1 + 3  # registration + three resends
    assert gateway.request("POST", "/auth/verify-email/resend").status == 401


def test_given_an_expired_link_when_used_then_the_same_400(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    token = mailbox.last_token(user.email)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    gateway.db.update_item(
        TableName=gateway.table,
        Key=user_key(user.id),
        UpdateExpression="SET verify_token_expires_at = :past",
        ExpressionAttributeValues={":past": {"S": past}},
    )

    response = _verify(gateway, token)

    assert (response.status, response.json) == (400, INVALID_LINK)


@pytest.mark.parametrize(
    "body",
    [
        {"token": ""},
        {"token": "not-a-token"},
        {"token": "é.ü.ö"},
        {"token": "\ud800.\udfff.x"},
        {"token": "a.b\u0000.c"},
        {"token": "x" * 1000},
    ],
)
def test_given_a_forged_token_when_verifying_then_the_same_400(
    gateway: GatewayClient, body: dict[str, Any]
) -> None:
    response = gateway.request("POST", "/auth/verify-email", json=body)

    assert (response.status, response.json) == (400, INVALID_LINK)


@pytest.mark.parametrize(
    "body",
    [{}, {"token": 123}, {"token": None}, {"token": ["a"]}, {"token": {"a": {"b": []}}}, []],
)
def test_given_a_malformed_body_when_verifying_then_422(
    gateway: GatewayClient, body: object
) -> None:
    response = gateway.request("POST", "/auth/verify-email", json=body)

    assert response.status == 422
    assert set(response.json) <= {"message", "details"}


# ---------------------------------------------------------------- email change
def test_given_an_email_change_then_unverified_old_address_told_new_one_asked_to_verify(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    assert _verify(gateway, mailbox.last_token(user.email)).status == 204
    access = gateway.login(user)["access_token"]
    new_email = f"moved-{user.email}"

    changed = gateway.request(
        "PATCH",
        "/users/me",
        json={"email": new_email, "current_password": user.password},
        token=access,
    )

    assert changed.status == 200
    assert changed.json["email_verified"] is False
    notice = mailbox.to(user.email)[-1]
    assert notice.subject == "Your email address was changed"
    assert new_email in notice.text
    assert "token=" not in notice.text
    assert _verify(gateway, mailbox.last_token(new_email)).status == 204


# ---------------------------------------------------------------- password reset
def test_given_a_reset_then_new_password_works_and_every_session_and_lock_is_gone(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    tokens = gateway.login(user)
    for _ in range(5):  # locks the account
        gateway.request("POST", "/auth/login", json={"email": user.email, "password": "wrong!"})
    assert "locked_until" in gateway.user_item(user.id)

    assert _forgot(gateway, user.email.upper()).status == 202
    mail = mailbox.to(user.email)[-1]
    assert mail.subject == "Reset your password"
    assert "https://app.example.com/reset-password?token=" in mail.text
    reset = _reset(gateway, mail.token, "a brand new passphrase")

    assert reset.status == 204
    item = gateway.user_item(user.id)
    assert "locked_until" not in item
    assert item.get("failed_logins", {"N": "0"}) == {"N": "0"}
    assert gateway.request("GET", "/users/me", token=tokens["access_token"]).status == 401
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status == 401
    old = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": user.password}
    )
    assert old.status == 401
    user.password = "a brand new passphrase"
    assert gateway.login(user)["access_token"]
    assert (_reset(gateway, mail.token, "yet another passphrase").json, 400) == (
        INVALID_LINK,
        _reset(gateway, mail.token, "yet another passphrase").status,
    )
    assert [e.detail_type for e in gateway.lifecycle_events()] == ["UserCreated"]  # reset: nothing


def test_given_a_weak_password_when_resetting_then_422_and_the_link_still_works(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    _forgot(gateway, user.email)
    token = mailbox.last_token(user.email)

    weak = _reset(gateway, token, "short")
    same_as_email = _reset(gateway, token, user.email)

    assert weak.status == 422
    assert same_as_email.status == 422
    assert _reset(gateway, token, "a good long passphrase").status == 204


def test_given_a_password_change_when_an_older_reset_link_is_used_then_400(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    _forgot(gateway, user.email)
    token = mailbox.last_token(user.email)
    access = gateway.login(user)["access_token"]
    changed = gateway.request(
        "PATCH",
        "/users/me",
        json={"password": "changed passphrase", "current_password": user.password},
        token=access,
    )
    assert changed.status == 200

    response = _reset(gateway, token, "attacker passphrase")

    assert (response.status, response.json) == (400, INVALID_LINK)


def test_given_two_forgot_requests_when_the_first_link_is_used_then_400(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    _forgot(gateway, user.email)
    first = mailbox.last_token(user.email)
    _forgot(gateway, user.email)
    second = mailbox.last_token(user.email)

    assert _reset(gateway, first, "a good long passphrase").status == 400
    assert _reset(gateway, second, "a good long passphrase").status == 204


def test_given_unknown_disabled_and_overused_addresses_when_forgetting_then_202_and_no_mail(
    gateway: GatewayClient, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = gateway.register(admin=True)
    disabled = gateway.register()
    admin_token = gateway.login(admin)["access_token"]
    assert gateway.request("POST", f"/users/{disabled.id}/disable", token=admin_token).status == 204
    busy = gateway.register()

    answers = [
        _forgot(gateway, "nobody@example.com"),
        _forgot(gateway, disabled.email),
        *(_forgot(gateway, busy.email) for _ in range(5)),
    ]

    assert {(a.status, a.text) for a in answers} == {(202, "")}
    assert mailbox.to("nobody@example.com") == []
    assert [m.subject for m in mailbox.to(disabled.email)] == ["Confirm your email address"]
    resets = [m for m in mailbox.to(busy.email) if m.subject == "Reset your password"]
    assert len(resets) == 3  # the per-address limit; the rest were dropped silently
    assert '"RecoveryRateLimited"' in capsys.readouterr().out  # operators see the drops


@pytest.mark.parametrize(
    "body", [{}, {"email": "not an address"}, {"email": 5}, {"email": "a@b.c", "x": 1}]
)
def test_given_a_malformed_forgot_request_then_422(gateway: GatewayClient, body: object) -> None:
    response = gateway.request("POST", "/auth/forgot-password", json=body)

    assert response.status == 422


def test_given_a_reset_then_the_stored_items_hold_no_token(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    user = gateway.register()
    _forgot(gateway, user.email)
    token = mailbox.last_token(user.email)

    items = gateway.db.scan(TableName=gateway.table)["Items"]

    assert token not in str(items)
    assert token.rpartition(".")[0] in str(items)  # the reference alone, useless without the key


@pytest.mark.parametrize(
    "password",
    [
        "\ud800" * 12,
        "passphrase \u0000\u0001\u001f!",
        "ünïcödé pässphräse ✓",
        "x" * 2000,
        123,
        None,
    ],
)
def test_given_hostile_passwords_when_resetting_then_never_a_5xx_and_the_link_survives_refusals(
    gateway: GatewayClient, mailbox: Mailbox, password: object
) -> None:
    user = gateway.register()
    _forgot(gateway, user.email)
    token = mailbox.last_token(user.email)

    response = gateway.request(
        "POST", "/auth/reset-password", json={"token": token, "password": password}
    )

    assert response.status in (204, 422), response.text
    if response.status == 422:
        assert _reset(gateway, token, "a good long passphrase").status == 204


def test_given_a_lone_surrogate_password_when_registering_then_422_not_500(
    gateway: GatewayClient,
) -> None:
    body = {"email": "surrogate@example.com", "password": "\udfff" * 12, "name": "S"}

    response = gateway.request("POST", "/users", json=body)

    assert response.status == 422, response.text


def test_given_a_verified_user_when_admins_list_users_then_the_page_says_so(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    admin = gateway.register(admin=True)
    user = gateway.register()
    assert _verify(gateway, mailbox.last_token(user.email)).status == 204
    token = gateway.login(admin)["access_token"]

    page = gateway.request("GET", "/users?limit=100", token=token).json["items"]

    verified = {item["id"]: item["email_verified"] for item in page}
    assert verified == {admin.id: False, user.id: True}
    assert "password_hash" not in str(page)
    assert "token" not in str(page)


def test_given_a_reset_link_issued_while_the_password_changes_then_it_dies_too(
    gateway: GatewayClient,
) -> None:
    from adapters.dynamodb_token_store import DynamoDBTokenStore
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.mail import MailKind, user_message
    from domain.recovery_tokens import TokenPurpose, new_token

    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"", db=gateway.db)
    user = gateway.register()
    read_before = users.get(user.id)
    token = new_token(user.id, TokenPurpose.RESET_PASSWORD, datetime.now(UTC))
    message = user_message(MailKind.RESET_PASSWORD, read_before.user, token.reference)
    store = DynamoDBTokenStore(gateway.table, gateway.db)
    assert store.issue_token(user.id, TokenPurpose.RESET_PASSWORD, token.issued, message)
    changed = read_before.model_copy(
        update={
            "password_hash": "scrypt$changed",
            "user": read_before.user.model_copy(update={"version": read_before.user.version + 1}),
        }
    )

    users.save(changed, read_before)

    assert users.get(user.id).reset_token is None


def test_given_the_email_changed_after_the_user_was_read_when_a_link_is_issued_then_nothing(
    gateway: GatewayClient,
) -> None:
    """A resend that read the old address must not store a token mailed there once the address
    changed: that link would mark the new address verified."""
    from adapters.dynamodb_token_store import DynamoDBTokenStore
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.mail import MailKind, user_message
    from domain.recovery_tokens import TokenPurpose, new_token

    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"", db=gateway.db)
    user = gateway.register()
    read_before = users.get(user.id)
    moved = read_before.model_copy(
        update={
            "user": read_before.user.model_copy(
                update={"email": f"moved-{user.email}", "version": read_before.user.version + 1}
            )
        }
    )
    users.save(moved, read_before)
    token = new_token(user.id, TokenPurpose.VERIFY_EMAIL, datetime.now(UTC))
    message = user_message(MailKind.VERIFY_EMAIL, read_before.user, token.reference)

    issued = DynamoDBTokenStore(gateway.table, gateway.db).issue_token(
        user.id, TokenPurpose.VERIFY_EMAIL, token.issued, message
    )

    assert issued is False
    assert users.get(user.id).verify_token != token.issued


# ---------------------------------------------------------------- synthetic users
def test_given_a_smoke_test_user_when_registered_then_no_mail_is_sent_to_its_domain(
    gateway: GatewayClient, mailbox: Mailbox
) -> None:
    email = f"smoke-{uuid.uuid4().hex[:12]}@{SYNTHETIC_EMAIL_DOMAIN}"
    registered = gateway.request(
        "POST", "/users", json={"email": email, "password": "a smoke passphrase", "name": "Smoke"}
    )
    real = gateway.register()

    mailbox.deliver()

    assert registered.status == 201
    assert mailbox.to(email) == []
    assert mailbox.to(real.email)  # the mailer itself works
