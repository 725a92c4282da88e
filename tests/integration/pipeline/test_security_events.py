"""Security events through the template's routes and the operator's actions, on the real table
(moto): each change publishes exactly its events, with who made it, and nothing else does."""

from __future__ import annotations

from typing import Any

from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.admin_service import AdminService
from domain.users import Role
from tests.support.api_clients import CreatedUser, GatewayClient
from tests.support.stream_records import as_published, assert_published_event_is_valid
from userflow.commands.admin import operator_actor

LIFECYCLE = {"UserCreated", "UserUpdated", "UserDeleted"}


def _security(gateway: GatewayClient, user: CreatedUser) -> list[tuple[str, dict[str, Any]]]:
    return [(kind, detail) for kind, detail in gateway.published(user.id) if kind not in LIFECYCLE]


def _kinds(gateway: GatewayClient, user: CreatedUser) -> list[str]:
    return [kind for kind, _ in gateway.published(user.id)]


def _operator(gateway: GatewayClient) -> AdminService:
    users = DynamoDBUserRepository(
        gateway.table, cursor_key=lambda: b"unused", db=gateway.db, actor=operator_actor
    )
    return AdminService(users, DynamoDBLoginState(gateway.table, gateway.db, operator_actor))


def _wrong(gateway: GatewayClient, user: CreatedUser) -> int:
    wrong = {"email": user.email, "password": "not the password"}
    return gateway.request("POST", "/auth/login", json=wrong).status


def test_given_guesses_until_throttled_then_one_account_locked_by_the_system_and_an_unlock_by_the_operator(  # noqa: E501
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    statuses = [_wrong(gateway, user) for _ in range(5)]
    assert statuses[-1] == 429

    [(kind, locked)] = _security(gateway, user)
    _operator(gateway).unlock(user.email)

    assert kind == "AccountLocked"
    assert locked["actor"] == {"type": "system"}
    assert locked["locked_until"] > locked["occurred_at"]
    (_, unlocked) = _security(gateway, user)[-1]
    assert _security(gateway, user)[-1][0] == "AccountUnlocked"
    assert unlocked["actor"]["type"] == "operator"
    assert unlocked["user"]["version"] == locked["user"]["version"] + 1
    assert "UserUpdated" not in _kinds(gateway, user)  # no public field changed
    for kind, detail in _security(gateway, user):
        assert_published_event_is_valid(as_published(kind, detail))


def test_given_a_lock_running_when_more_guesses_lengthen_it_then_no_second_account_locked(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    for _ in range(5):
        _wrong(gateway, user)
    gateway.db.update_item(  # the wait runs out, as it would after its 30 s
        TableName=gateway.table,
        Key={"PK": {"S": f"USER#{user.id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET locked_until = :past",
        ExpressionAttributeValues={":past": {"S": "2020-01-01T00:00:00Z"}},
    )
    _wrong(gateway, user)  # the sixth failure starts a new wait: a second lock
    _wrong(gateway, user)  # refused while it runs: nothing

    assert [kind for kind, _ in _security(gateway, user)] == ["AccountLocked", "AccountLocked"]
    _operator(gateway).unlock(user.email)
    assert _security(gateway, user)[-1][0] == "AccountUnlocked"


def test_given_a_logout_of_one_session_and_of_all_then_sessions_revoked_by_the_user(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    first, second = gateway.login(user), gateway.login(user)
    one = {"refresh_token": first["refresh_token"]}
    assert gateway.request("POST", "/auth/logout", json=one, token=first["access_token"]).status
    every = {"all": True}
    gateway.request("POST", "/auth/logout", json=every, token=second["access_token"])

    revoked = _security(gateway, user)
    assert [(k, d["scope"], d["reason"]) for k, d in revoked] == [
        ("SessionsRevoked", "family", "logout"),
        ("SessionsRevoked", "all", "logout"),
    ]
    assert all(d["actor"] == {"type": "user", "id": user.id} for _, d in revoked)
    assert len({d["event_id"] for _, d in revoked}) == 2


def test_given_a_refresh_token_used_twice_then_sessions_revoked_for_reuse_by_the_system(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    tokens = gateway.login(user)
    old = {"refresh_token": tokens["refresh_token"]}
    assert gateway.request("POST", "/auth/refresh", json=old).status == 200
    assert gateway.request("POST", "/auth/refresh", json=old).status == 401

    [(kind, detail)] = _security(gateway, user)
    assert (kind, detail["scope"], detail["reason"]) == (
        "SessionsRevoked",
        "family",
        "reuse_detected",
    )
    assert detail["actor"] == {"type": "system"}


def test_given_a_password_change_then_password_changed_and_sessions_revoked_without_user_updated(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]
    change = {"password": "a brand new passphrase", "current_password": user.password}
    assert gateway.request("PATCH", "/users/me", json=change, token=token).status == 200

    assert _kinds(gateway, user) == ["UserCreated", "PasswordChanged", "SessionsRevoked"]
    (_, changed), (_, revoked) = _security(gateway, user)
    assert changed["reason"] == "change"
    assert revoked["reason"] == "password_change"
    assert changed["actor"] == revoked["actor"] == {"type": "user", "id": user.id}
    assert changed["user"]["version"] == revoked["user"]["version"] == 2
    assert changed["correlation_id"] == revoked["correlation_id"] is not None


def test_given_an_email_change_then_user_updated_and_email_changed_with_both_addresses(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]
    change = {"email": "Renamed@Example.com", "current_password": user.password}
    assert gateway.request("PATCH", "/users/me", json=change, token=token).status == 200

    assert _kinds(gateway, user) == ["UserCreated", "UserUpdated", "EmailChanged"]
    [(_, changed)] = _security(gateway, user)
    assert (changed["old_email"], changed["new_email"]) == (user.email, "renamed@example.com")


def test_given_an_admin_disables_and_enables_then_events_name_the_admin(
    gateway: GatewayClient,
) -> None:
    admin = gateway.register(admin=True)
    admin_token = gateway.login(admin)["access_token"]
    user = gateway.register()
    gateway.request("POST", f"/users/{user.id}/disable", token=admin_token)
    gateway.request("POST", f"/users/{user.id}/enable", token=admin_token)

    assert _kinds(gateway, user) == [
        "UserCreated",
        *("UserUpdated", "SessionsRevoked", "UserDisabled"),
        *("UserUpdated", "UserEnabled"),
    ]
    security = _security(gateway, user)
    assert security[0][1]["reason"] == "disable"
    assert {d["actor"]["id"] for _, d in security} == {admin.id}
    assert {d["actor"]["type"] for _, d in security} == {"admin"}


def test_given_an_operator_grants_and_revokes_a_role_then_role_events_name_the_operator(
    gateway: GatewayClient,
) -> None:
    gateway.register(admin=True)  # not the last admin: the role may be revoked
    user = gateway.register()
    operator = _operator(gateway)
    operator.grant_role(user.email, Role.ADMIN, force=True)
    operator.revoke_role(user.email, Role.ADMIN)

    security = _security(gateway, user)
    assert [(k, d.get("roles")) for k, d in security] == [
        ("RoleGranted", ["admin"]),
        ("SessionsRevoked", None),
        ("RoleRevoked", ["admin"]),
    ]
    assert security[1][1]["reason"] == "admin"
    assert {d["actor"]["type"] for _, d in security} == {"operator"}


def test_given_a_correct_login_and_a_counted_failure_then_no_security_event(
    gateway: GatewayClient,
) -> None:
    """Login bookkeeping (a failure counted, a run ended) keeps the version: no event."""
    user = gateway.register()
    _wrong(gateway, user)
    gateway.login(user)

    assert _kinds(gateway, user) == ["UserCreated"]
