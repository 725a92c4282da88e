"""Recent authentication (domain/reauthentication.py): deleting your own account and changing your
email or password need the current password or a login within the window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import AccessDenied, ReauthenticationRequired, UserNotFound
from domain.password_guard import PasswordGuard
from domain.reauthentication import ReauthenticationPolicy, RecentAuthentication
from domain.user_service import UserService
from domain.users import User, UserAccount, UserPatch
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


def service_with(
    backend: InMemoryBackend,
    window: timedelta = WINDOW,
    second_factor_required: Callable[[UserAccount], bool] = lambda account: False,
) -> UserService:
    guard = PasswordGuard(backend.login_state, backend.hasher, clock=backend.clock)
    rule = RecentAuthentication(
        guard,
        ReauthenticationPolicy(window=window, second_factor_required=second_factor_required),
        clock=backend.clock,
    )
    return UserService(
        backend.users,
        backend.hasher,
        clock=backend.clock,
        password_guard=guard,
        recent_authentication=lambda: rule,
    )


DANGEROUS: dict[
    str, Callable[[UserService, InMemoryBackend, User, timedelta, str | None], None]
] = {
    "delete self": lambda service, backend, user, ago, current: service.delete(
        backend.caller(user, logged_in=ago), "me", current_password=current
    ),
    "change email": lambda service, backend, user, ago, current: _update(
        service, backend, user, ago, email="ann@elsewhere.example", current_password=current
    ),
    "change password": lambda service, backend, user, ago, current: _update(
        service, backend, user, ago, password=NEW_PASSWORD, current_password=current
    ),
}


def _update(
    service: UserService, backend: InMemoryBackend, user: User, ago: timedelta, **fields: object
) -> None:
    service.update(backend.caller(user, logged_in=ago), "me", UserPatch.model_validate(fields))


def _unchanged(backend: InMemoryBackend, user: User) -> bool:
    try:
        stored = backend.users.get(user.id)
    except UserNotFound:
        return False
    return stored.user == user and backend.hasher.verify(PASSWORD, stored.password_hash)


@pytest.mark.parametrize("operation", DANGEROUS)
def test_given_a_login_older_than_the_window_and_no_password_then_reauthentication_required(
    backend: InMemoryBackend, operation: str
) -> None:
    user = backend.register()

    with pytest.raises(ReauthenticationRequired) as refused:
        DANGEROUS[operation](
            service_with(backend), backend, user, WINDOW + timedelta(seconds=1), None
        )

    assert refused.value.message == "Reauthentication required"
    assert _unchanged(backend, user)


@pytest.mark.parametrize("operation", DANGEROUS)
@pytest.mark.parametrize("ago", [timedelta(0), timedelta(minutes=3), WINDOW])
def test_given_a_login_within_the_window_when_no_password_is_sent_then_allowed(
    backend: InMemoryBackend, operation: str, ago: timedelta
) -> None:
    user = backend.register()

    DANGEROUS[operation](service_with(backend), backend, user, ago, None)

    assert not _unchanged(backend, user)


@pytest.mark.parametrize("operation", DANGEROUS)
def test_given_an_old_login_when_the_current_password_is_sent_then_allowed(
    backend: InMemoryBackend, operation: str
) -> None:
    user = backend.register()

    DANGEROUS[operation](service_with(backend), backend, user, timedelta(days=20), PASSWORD)

    assert not _unchanged(backend, user)


@pytest.mark.parametrize("operation", DANGEROUS)
def test_given_a_recent_login_when_a_wrong_password_is_sent_then_refused_and_counted(
    backend: InMemoryBackend, operation: str
) -> None:
    """A presented proof is never ignored: a wrong one is a failed login, however recent the
    session (else a recent session would be a free password oracle... or a free lockout)."""
    user = backend.register()

    with pytest.raises(AccessDenied, match="current_password is wrong"):
        DANGEROUS[operation](service_with(backend), backend, user, timedelta(0), "not it at all")

    assert _unchanged(backend, user)
    assert backend.users.failed_logins(user.id) == 1


def test_given_a_window_of_zero_when_no_password_is_sent_then_always_required(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    with pytest.raises(ReauthenticationRequired):
        DANGEROUS["delete self"](
            service_with(backend, window=timedelta(0)), backend, user, timedelta(0), None
        )


def test_given_an_auth_time_in_the_future_beyond_clock_skew_then_not_recent(
    backend: InMemoryBackend,
) -> None:
    """The verifier refuses an auth_time after iat; a token minted ahead of time is not fresh."""
    user = backend.register()

    with pytest.raises(ReauthenticationRequired):
        DANGEROUS["delete self"](service_with(backend), backend, user, -timedelta(minutes=5), None)


@pytest.mark.parametrize(
    ("amr", "allowed"), [(("pwd",), False), (("pwd", "otp"), True), (("hwk", "user"), True)]
)
def test_given_an_account_that_needs_a_second_factor_then_only_a_session_with_one_qualifies(
    backend: InMemoryBackend, amr: tuple[str, ...], allowed: bool
) -> None:
    """The hook MFA (issue 21) plugs into: the policy says which accounts need a second
    factor; a recent login that did not use one does not count, nor does the password."""
    user = backend.register()
    service = service_with(backend, second_factor_required=lambda account: True)
    caller = backend.caller(user, logged_in=timedelta(0), amr=amr)

    if allowed:
        service.delete(caller, "me")
    else:
        with pytest.raises(ReauthenticationRequired):
            service.delete(caller, "me", current_password=PASSWORD)
    assert _unchanged(backend, user) is not allowed


def test_given_an_admin_deleting_someone_else_then_no_reauthentication_is_asked(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    service_with(backend).delete(
        backend.caller(admin, admin=True, logged_in=timedelta(days=1)), bob.id
    )

    with pytest.raises(UserNotFound):
        backend.users.get(bob.id)


def test_given_an_admin_deleting_their_own_account_then_reauthentication_is_asked(
    backend: InMemoryBackend,
) -> None:
    admin = backend.register()

    with pytest.raises(ReauthenticationRequired):
        service_with(backend).delete(
            backend.caller(admin, admin=True, logged_in=timedelta(days=1)), "me"
        )


def test_given_a_profile_change_without_email_or_password_then_no_reauthentication_is_asked(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    updated = service_with(backend).update(
        backend.caller(user, logged_in=timedelta(days=1)), "me", UserPatch(name="Ann B")
    )

    assert updated.name == "Ann B"
