"""``UserService`` rules for deleting, listing, disabling and granting roles, on in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidCursor,
    InvalidInput,
    UserNotFound,
)
from domain.users import User, UserStatus
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


def _register_many(backend: InMemoryBackend, count: int) -> list[User]:
    users = []
    for index in range(count):
        users.append(backend.register(email=f"user{index}@example.com", name=f"User {index}"))
        backend.clock.advance(timedelta(seconds=1))
    return users


# ---------------------------------------------------------------- delete
def test_given_a_user_when_deleting_self_then_gone_and_the_email_is_free(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    backend.user_service().delete(backend.caller(user), "me", current_password=PASSWORD)

    with pytest.raises(UserNotFound):
        backend.users.get(user.id)
    assert backend.register(name="Ann again").id != user.id


def test_given_a_user_when_deleting_someone_else_then_access_denied_and_kept(
    backend: InMemoryBackend,
) -> None:
    ann, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    with pytest.raises(AccessDenied):
        backend.user_service().delete(backend.caller(ann), bob.id)

    assert backend.users.get(bob.id).user == bob


def test_given_an_admin_when_deleting_a_user_twice_then_the_second_is_not_found(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")
    service, caller = backend.user_service(), backend.caller(admin, admin=True)
    service.delete(caller, bob.id)

    with pytest.raises(UserNotFound):
        service.delete(caller, bob.id)


# ---------------------------------------------------------------- list
def test_given_users_when_an_admin_pages_through_them_then_each_appears_once_in_order(
    backend: InMemoryBackend,
) -> None:
    users = _register_many(backend, 5)
    caller = backend.caller(users[0], admin=True)
    service = backend.admin_service()

    seen, cursor = [], None
    while True:
        page = service.list_users(caller, 2, cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == users


def test_given_a_non_admin_when_listing_users_then_access_denied(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    with pytest.raises(AccessDenied):
        backend.admin_service().list_users(backend.caller(user), 10, None)


@pytest.mark.parametrize("limit", [0, 101])
def test_given_a_limit_out_of_range_when_listing_then_invalid_input(
    backend: InMemoryBackend, limit: int
) -> None:
    admin = backend.register()

    with pytest.raises(InvalidInput, match="limit"):
        backend.admin_service().list_users(backend.caller(admin, admin=True), limit, None)


def test_given_a_cursor_this_service_did_not_issue_when_listing_then_invalid_cursor(
    backend: InMemoryBackend,
) -> None:
    admin = backend.register()

    with pytest.raises(InvalidCursor):
        backend.admin_service().list_users(backend.caller(admin, admin=True), 10, "forged")


# ---------------------------------------------------------------- disable / enable
def test_given_an_admin_when_disabling_a_user_then_their_tokens_stop_working_until_enabled(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")
    bobs_token = backend.caller(bob)
    service, caller = backend.user_service(), backend.caller(admin, admin=True)
    backend.clock.advance(timedelta(seconds=5))

    disabled = backend.admin_service().set_status(caller, bob.id, UserStatus.DISABLED)

    assert (disabled.status, disabled.version) == (UserStatus.DISABLED, 2)
    assert backend.users.get(bob.id).sessions_revoked_at == backend.clock.now
    with pytest.raises(AuthenticationFailed):
        service.get(bobs_token, "me")

    enabled = backend.admin_service().set_status(caller, bob.id, UserStatus.ACTIVE)

    assert (enabled.status, enabled.version) == (UserStatus.ACTIVE, 3)
    assert service.get(backend.caller(bob), "me") == enabled
    with pytest.raises(AuthenticationFailed):
        service.get(bobs_token, "me")


def test_given_a_user_in_the_requested_status_when_set_again_then_nothing_changes(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    unchanged = backend.admin_service().set_status(
        backend.caller(admin, admin=True), bob.id, UserStatus.ACTIVE
    )

    assert unchanged == bob
    assert backend.users.get(bob.id).sessions_revoked_at is None


def test_given_a_non_admin_when_disabling_anyone_then_access_denied(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    with pytest.raises(AccessDenied):
        backend.admin_service().set_status(backend.caller(user), user.id, UserStatus.DISABLED)

    assert backend.users.get(user.id).user.status == UserStatus.ACTIVE
