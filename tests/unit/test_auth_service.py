"""The rules of ``AuthService`` on in-memory ports (``tests/fakes.py``); moto tests the adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.auth_models import LogoutRequest, TokenPair
from domain.auth_service import (
    LOGIN_FAILED,
    LOGIN_SUCCEEDED,
    LOGIN_THROTTLED,
    REFRESH_REUSE_DETECTED,
    hash_refresh_token,
)
from domain.errors import AuthenticationFailed, InvalidInput
from domain.passwords import PasswordHasher, ScryptCost
from domain.users import Role, User, UserPatch, UserStatus
from tests.fakes import PASSWORD, Clock, InMemoryBackend

# Issued tokens are verified, and PyJWT checks their expiry against the real time.
NOW = datetime.now(UTC).replace(microsecond=0)
WRONG = "not the password at all"
NEW_PASSWORD = "a brand new passphrase"
CHANGE_PASSWORD = UserPatch.model_validate({"password": NEW_PASSWORD, "current_password": PASSWORD})


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


@pytest.fixture
def user(backend: InMemoryBackend) -> User:
    return backend.register()


def _refresh_fails(backend: InMemoryBackend, refresh_token: str) -> bool:
    try:
        backend.auth_service().refresh(refresh_token)
    except AuthenticationFailed:
        return True
    return False


def _fail_logins(backend: InMemoryBackend, count: int, email: str = "ann@example.com") -> None:
    for _ in range(count):
        with pytest.raises(AuthenticationFailed):
            backend.auth_service().login(email, WRONG)


# ---------------------------------------------------------------- login
def test_given_the_right_password_when_logging_in_then_a_verifiable_pair_and_only_a_hash_stored(
    backend: InMemoryBackend, user: User
) -> None:
    pair = backend.auth_service().login(" ANN@example.com ", PASSWORD)

    claims = backend.verifier().verify(pair.access_token)
    assert (claims.sub, claims.roles, pair.token_type) == (user.id, (Role.USER.value,), "Bearer")
    assert list(backend.sessions.tokens) == [hash_refresh_token(pair.refresh_token)]
    assert backend.metrics == [LOGIN_SUCCEEDED]


@pytest.mark.parametrize(
    ("email", "password"), [("nobody@example.com", PASSWORD), ("ann@example.com", WRONG)]
)
def test_given_an_unknown_email_or_a_wrong_password_when_logging_in_then_the_same_failure(
    backend: InMemoryBackend, user: User, email: str, password: str
) -> None:
    with pytest.raises(AuthenticationFailed) as failure:
        backend.auth_service().login(email, password)

    assert failure.value.message == "Invalid credentials"
    assert backend.metrics == [LOGIN_FAILED]
    assert backend.sessions.families == {}


def test_given_repeated_failures_when_the_limit_is_reached_then_even_the_password_is_refused(
    backend: InMemoryBackend, user: User
) -> None:
    _fail_logins(backend, backend.policy.max_failed_logins)

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    assert backend.metrics[-2:] == [LOGIN_THROTTLED, LOGIN_THROTTLED]
    assert backend.users.get(user.id).locked_until == NOW + backend.policy.lockout


def test_given_an_expired_lock_when_logging_in_with_the_password_then_in_and_counter_cleared(
    backend: InMemoryBackend, user: User
) -> None:
    _fail_logins(backend, backend.policy.max_failed_logins + 1)
    backend.clock.advance(backend.policy.lockout)

    backend.auth_service().login(user.email, PASSWORD)

    assert backend.users.get(user.id).locked_until is None
    assert backend.users.failed_logins(user.id) == 0


def test_given_a_few_failures_when_the_password_is_right_then_in_and_the_counter_is_cleared(
    backend: InMemoryBackend, user: User
) -> None:
    _fail_logins(backend, backend.policy.max_failed_logins - 1)

    backend.auth_service().login(user.email, PASSWORD)
    _fail_logins(backend, backend.policy.max_failed_logins - 1)

    assert backend.users.failed_logins(user.id) == backend.policy.max_failed_logins - 1
    assert backend.users.get(user.id).locked_until is None


def test_given_parallel_guesses_that_locked_the_account_after_it_was_read_then_refused(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_before = backend.users.get(user.id)
    _fail_logins(backend, backend.policy.max_failed_logins)
    monkeypatch.setattr(backend.users, "find_by_email", lambda email: read_before)
    backend.metrics.clear()

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    assert backend.metrics == [LOGIN_THROTTLED]
    assert backend.sessions.families == {}


def test_given_guesses_at_the_limit_but_not_yet_locked_when_logging_in_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    backend.users.items[user.id].failed_logins = backend.policy.max_failed_logins

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    assert backend.metrics == [LOGIN_THROTTLED]


def test_given_an_account_read_before_its_password_changed_when_the_old_one_is_used_then_refused(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_before = backend.users.get(user.id)
    backend.user_service().update(
        backend.caller(user),
        "me",
        CHANGE_PASSWORD,
    )
    monkeypatch.setattr(backend.users, "find_by_email", lambda email: read_before)

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    assert backend.hasher.verify(NEW_PASSWORD, backend.users.get(user.id).password_hash)


def test_given_a_hash_of_an_older_cost_when_logging_in_then_it_is_upgraded_without_a_version() -> (
    None
):
    cheaper = InMemoryBackend(Clock(NOW), hasher=PasswordHasher(ScryptCost(log2_n=3)))
    cheaper.register()
    upgraded = InMemoryBackend(Clock(NOW), users=cheaper.users)

    upgraded.auth_service().login("ann@example.com", PASSWORD)

    account = upgraded.users.find_by_email("ann@example.com")
    assert account is not None
    assert account.password_hash.startswith("scrypt$4$")
    assert upgraded.hasher.verify(PASSWORD, account.password_hash)
    assert account.user.version == 1


def test_given_a_disabled_user_when_logging_in_with_the_password_then_refused_until_enabled(
    backend: InMemoryBackend, user: User
) -> None:
    admin = backend.register(email="admin@example.com", name="Admin")
    service, caller = backend.user_service(), backend.caller(admin, admin=True)
    service.set_status(caller, user.id, UserStatus.DISABLED)

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    service.set_status(caller, user.id, UserStatus.ACTIVE)
    backend.auth_service().login(user.email, PASSWORD)
    assert backend.metrics == [LOGIN_FAILED, LOGIN_SUCCEEDED]


# ---------------------------------------------------------------- refresh
def _login(backend: InMemoryBackend, user: User) -> TokenPair:
    return backend.auth_service().login(user.email, PASSWORD)


def test_given_a_refresh_token_when_refreshed_then_a_new_pair_and_the_old_token_is_spent(
    backend: InMemoryBackend, user: User
) -> None:
    first = _login(backend, user)

    second = backend.auth_service().refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert backend.verifier().verify(second.access_token).sub == user.id
    spent = backend.sessions.find_token(hash_refresh_token(first.refresh_token))
    assert spent is not None
    assert spent.rotated_at == NOW


def test_given_a_rotated_token_when_reused_then_refused_and_the_whole_family_is_revoked(
    backend: InMemoryBackend, user: User
) -> None:
    first = _login(backend, user)
    second = backend.auth_service().refresh(first.refresh_token)

    assert _refresh_fails(backend, first.refresh_token)
    assert _refresh_fails(backend, second.refresh_token)
    assert backend.metrics[-1] == REFRESH_REUSE_DETECTED


def test_given_two_concurrent_refreshes_of_one_token_then_the_loser_revokes_the_family(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _login(backend, user)
    read_before = backend.sessions.find_token(hash_refresh_token(first.refresh_token))
    winner = backend.auth_service().refresh(first.refresh_token)
    monkeypatch.setattr(backend.sessions, "find_token", lambda token_hash: read_before)

    assert _refresh_fails(backend, first.refresh_token)

    monkeypatch.undo()
    assert backend.metrics[-1] == REFRESH_REUSE_DETECTED
    assert _refresh_fails(backend, winner.refresh_token)


def test_given_a_family_used_for_weeks_when_refreshed_then_it_lives_as_long_as_its_newest_token(
    backend: InMemoryBackend, user: User
) -> None:
    pair = _login(backend, user)
    for _ in range(3):
        backend.clock.advance(backend.policy.refresh_ttl - timedelta(days=1))
        pair = backend.auth_service().refresh(pair.refresh_token)

    backend.clock.advance(backend.policy.refresh_ttl - timedelta(seconds=1))
    assert not _refresh_fails(backend, pair.refresh_token)


def test_given_an_expired_or_unknown_refresh_token_when_refreshed_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    pair = _login(backend, user)
    backend.clock.advance(backend.policy.refresh_ttl)

    assert _refresh_fails(backend, pair.refresh_token)
    assert _refresh_fails(backend, "never-issued")


def test_given_a_password_change_when_refreshing_an_earlier_session_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    earlier = _login(backend, user)
    backend.clock.advance(timedelta(seconds=1))
    backend.user_service().update(
        backend.caller(user),
        "me",
        CHANGE_PASSWORD,
    )

    assert _refresh_fails(backend, earlier.refresh_token)
    backend.clock.advance(timedelta(seconds=1))
    later = backend.auth_service().login(user.email, NEW_PASSWORD)
    assert not _refresh_fails(backend, later.refresh_token)


@pytest.mark.parametrize("gone", ["deleted", "disabled"])
def test_given_a_deleted_or_disabled_user_when_refreshing_then_refused(
    backend: InMemoryBackend, user: User, gone: str
) -> None:
    pair = _login(backend, user)
    admin = backend.caller(backend.register(email="admin@example.com", name="Admin"), admin=True)
    if gone == "deleted":
        backend.user_service().delete(admin, user.id)
    else:
        backend.user_service().set_status(admin, user.id, UserStatus.DISABLED)

    assert _refresh_fails(backend, pair.refresh_token)


# ---------------------------------------------------------------- logout
def _logout(backend: InMemoryBackend, user: User, **request: object) -> None:
    backend.auth_service().logout(backend.caller(user), LogoutRequest.model_validate(request))


def test_given_two_sessions_when_logging_out_of_one_then_only_it_dies(
    backend: InMemoryBackend, user: User
) -> None:
    phone, laptop = _login(backend, user), _login(backend, user)

    _logout(backend, user, refresh_token=phone.refresh_token)

    assert _refresh_fails(backend, phone.refresh_token)
    assert not _refresh_fails(backend, laptop.refresh_token)


def test_given_all_when_logging_out_then_every_session_and_earlier_access_token_dies(
    backend: InMemoryBackend, user: User
) -> None:
    phone, laptop = _login(backend, user), _login(backend, user)
    earlier = backend.caller(user)
    backend.clock.advance(timedelta(seconds=1))

    _logout(backend, user, all=True)

    assert _refresh_fails(backend, phone.refresh_token)
    assert _refresh_fails(backend, laptop.refresh_token)
    with pytest.raises(AuthenticationFailed):
        backend.user_service().get(earlier, "me")


def test_given_someone_elses_refresh_token_when_logging_out_then_refused_and_it_lives(
    backend: InMemoryBackend, user: User
) -> None:
    bob = backend.register(email="bob@example.com", name="Bob")
    bobs = _login(backend, bob)

    with pytest.raises(AuthenticationFailed):
        _logout(backend, user, refresh_token=bobs.refresh_token)

    assert not _refresh_fails(backend, bobs.refresh_token)


def test_given_no_token_and_no_all_when_logging_out_then_invalid_input(
    backend: InMemoryBackend, user: User
) -> None:
    with pytest.raises(InvalidInput):
        _logout(backend, user)
