"""Operators' actions on accounts (domain/admin_service.py) and the last enabled admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.auth_models import LoginTokens
from domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    LastAdmin,
    LoginThrottled,
    UnverifiedEmail,
    UserNotFound,
)
from domain.users import Role, User, UserStatus
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


def _verified(backend: InMemoryBackend, email: str = "ann@example.com", name: str = "Ann") -> User:
    user = backend.register(email=email, name=name)
    stored = backend.users.items[user.id]
    verified = stored.account.user.model_copy(update={"email_verified": True})
    stored.account = stored.account.model_copy(update={"user": verified})
    return verified


def _admin(backend: InMemoryBackend, email: str, name: str = "Admin") -> User:
    _verified(backend, email, name)
    return backend.admin_service().grant_role(email, Role.ADMIN)


# ---------------------------------------------------------------- grant
def test_given_a_verified_user_when_granting_admin_twice_then_one_new_version(
    backend: InMemoryBackend,
) -> None:
    user = _verified(backend)
    actions = backend.admin_service()

    granted = actions.grant_role("ann@example.com", Role.ADMIN)
    again = actions.grant_role("ANN@example.com", Role.ADMIN)

    assert granted.roles == (Role.USER, Role.ADMIN)
    assert again == granted == backend.users.get(user.id).user
    assert granted.version == 2


def test_given_an_unverified_address_when_granting_then_refused_unless_forced(
    backend: InMemoryBackend,
) -> None:
    """Whoever registered a new hire's address before them would otherwise get their role."""
    user = backend.register()
    actions = backend.admin_service()

    with pytest.raises(UnverifiedEmail, match="not verified"):
        actions.grant_role("ann@example.com", Role.ADMIN)
    assert backend.users.get(user.id).user.roles == (Role.USER,)

    assert actions.grant_role("ann@example.com", Role.ADMIN, force=True).roles == (
        Role.USER,
        Role.ADMIN,
    )


def test_given_an_unknown_email_when_acting_then_user_not_found(backend: InMemoryBackend) -> None:
    actions = backend.admin_service()
    with pytest.raises(UserNotFound, match=r"nobody@example\.com"):
        actions.grant_role("nobody@example.com", Role.ADMIN)
    with pytest.raises(UserNotFound, match=r"nobody@example\.com"):
        actions.revoke_role("nobody@example.com", Role.ADMIN)
    with pytest.raises(UserNotFound, match=r"nobody@example\.com"):
        actions.unlock("nobody@example.com")


# ---------------------------------------------------------------- revoke
def test_given_two_admins_when_one_is_revoked_then_demoted_and_every_session_ends(
    backend: InMemoryBackend,
) -> None:
    ann = _admin(backend, "ann@example.com", "Ann")
    _admin(backend, "bob@example.com", "Bob")
    tokens = backend.auth_service().login("ann@example.com", PASSWORD)
    assert isinstance(tokens, LoginTokens)
    caller = backend.caller(ann, admin=True)
    backend.clock.advance(timedelta(seconds=1))

    revoked = backend.admin_service().revoke_role("ann@example.com", Role.ADMIN)

    assert revoked.roles == (Role.USER,)
    with pytest.raises(AuthenticationFailed):
        backend.admin_service().list_users(caller, 10, None)
    with pytest.raises(AuthenticationFailed):
        backend.auth_service().refresh(tokens.refresh_token)


def test_given_a_role_the_user_lacks_when_revoked_then_nothing_changes(
    backend: InMemoryBackend,
) -> None:
    user = _verified(backend)

    assert backend.admin_service().revoke_role("ann@example.com", Role.ADMIN) == user
    assert backend.users.get(user.id).session_generation == 0


def test_given_the_user_role_when_revoked_then_refused(backend: InMemoryBackend) -> None:
    _verified(backend)

    with pytest.raises(InvalidInput, match="user role"):
        backend.admin_service().revoke_role("ann@example.com", Role.USER)


# ---------------------------------------------------------------- the last enabled admin
def test_given_the_only_admin_when_revoked_then_refused(backend: InMemoryBackend) -> None:
    ann = _admin(backend, "ann@example.com")

    with pytest.raises(LastAdmin):
        backend.admin_service().revoke_role("ann@example.com", Role.ADMIN)

    assert backend.users.get(ann.id).user.roles == (Role.USER, Role.ADMIN)


def test_given_the_only_enabled_admin_when_disabling_themself_then_refused(
    backend: InMemoryBackend,
) -> None:
    ann = _admin(backend, "ann@example.com")

    with pytest.raises(LastAdmin):
        backend.admin_service().set_status(
            backend.caller(ann, admin=True), "me", UserStatus.DISABLED
        )

    assert backend.users.get(ann.id).user.status == UserStatus.ACTIVE


def test_given_another_admin_who_is_disabled_when_the_last_enabled_one_is_disabled_then_refused(
    backend: InMemoryBackend,
) -> None:
    ann = _admin(backend, "ann@example.com", "Ann")
    bob = _admin(backend, "bob@example.com", "Bob")
    service = backend.admin_service()
    service.set_status(backend.caller(ann, admin=True), bob.id, UserStatus.DISABLED)

    with pytest.raises(LastAdmin):
        service.set_status(backend.caller(ann, admin=True), ann.id, UserStatus.DISABLED)
    with pytest.raises(LastAdmin):
        backend.admin_service().revoke_role("ann@example.com", Role.ADMIN)


def test_given_an_admin_disabled_while_the_other_is_demoted_then_one_of_them_stays(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator read Bob as the admin who stays, just before Ann disabled him: the write
    requires him still to be one, so it is redone, finds no other, and refuses."""
    ann = _admin(backend, "ann@example.com", "Ann")
    bob = _admin(backend, "bob@example.com", "Bob")
    real = backend.users.other_enabled_admin
    stale = {ann.id: [bob.id]}

    def seen_before(excluding: str) -> str | None:
        return stale[excluding].pop() if stale.get(excluding) else real(excluding)

    backend.admin_service().set_status(backend.caller(ann, admin=True), bob.id, UserStatus.DISABLED)
    monkeypatch.setattr(backend.users, "other_enabled_admin", seen_before)

    with pytest.raises(LastAdmin):
        backend.admin_service().revoke_role("ann@example.com", Role.ADMIN)

    assert backend.users.get(ann.id).user.roles == (Role.USER, Role.ADMIN)


def test_given_an_admin_who_is_not_the_last_when_disabled_then_done(
    backend: InMemoryBackend,
) -> None:
    ann = _admin(backend, "ann@example.com", "Ann")
    bob = _admin(backend, "bob@example.com", "Bob")

    backend.admin_service().set_status(backend.caller(ann, admin=True), bob.id, UserStatus.DISABLED)

    assert backend.users.get(bob.id).user.status == UserStatus.DISABLED


# ---------------------------------------------------------------- unlock
def test_given_a_throttled_account_when_unlocked_then_the_password_logs_in_at_once(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    for _ in range(backend.policy.throttle.free_failures + 2):
        with pytest.raises((AuthenticationFailed, LoginThrottled)):
            backend.auth_service().login(user.email, "not the password at all")

    backend.admin_service().unlock(user.email)

    backend.auth_service().login(user.email, PASSWORD)
    assert backend.users.failed_logins(user.id) == 0
