"""``AuthService`` login rules (credentials, throttle, races, re-hash) on in-memory ports; device
tokens: test_login_device_rules.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.auth_models import TokenPair
from domain.auth_service import LOGIN_FAILED, LOGIN_SUCCEEDED, LOGIN_THROTTLED
from domain.errors import AuthenticationFailed, LoginThrottled, PasswordResetRequired
from domain.passwords import Argon2Cost, PasswordHasher
from domain.sessions import hash_refresh_token
from domain.users import Role, User, UserPatch, UserStatus
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend


# Issued tokens are verified, and PyJWT checks their expiry against the real time.
def real_now() -> datetime:
    """Issued tokens are verified, and PyJWT checks their expiry against the real time: each
    test's clock starts at the real time of that test (not of the module's import)."""
    return datetime.now(UTC).replace(microsecond=0)


WRONG = "not the password at all"
NEW_PASSWORD = "a brand new passphrase"
CHANGE_PASSWORD = UserPatch.model_validate({"password": NEW_PASSWORD, "current_password": PASSWORD})


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(real_now()))


@pytest.fixture
def user(backend: InMemoryBackend) -> User:
    return backend.register()


def _fail_logins(backend: InMemoryBackend, count: int, email: str = "ann@example.com") -> None:
    for _ in range(count):
        with pytest.raises(AuthenticationFailed):
            backend.auth_service().login(email, WRONG)


# ---------------------------------------------------------------- login
def test_given_the_right_password_when_logging_in_then_a_verifiable_pair_and_only_a_hash_stored(
    backend: InMemoryBackend, user: User
) -> None:
    pair = backend.auth_service().login(" ANN@example.com ", PASSWORD)
    assert isinstance(pair, TokenPair)

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
    # Whose account was guessed at is recorded by id; an unknown address by nothing at all.
    known = email == user.email
    assert backend.outcomes == [(LOGIN_FAILED, user.id if known else None, None)]


def test_given_the_free_failures_used_when_the_password_is_right_then_429_with_the_wait(
    backend: InMemoryBackend, user: User
) -> None:
    """No hard lock: a wait that the owner's right password cannot skip either (an attacker's
    guess would otherwise be told apart)."""
    throttle = backend.policy.throttle
    _fail_logins(backend, throttle.free_failures - 1)
    with pytest.raises(LoginThrottled) as crossing:
        backend.auth_service().login(user.email, WRONG)

    with pytest.raises(LoginThrottled) as refused:
        backend.auth_service().login(user.email, PASSWORD)

    assert crossing.value.retry_after == refused.value.retry_after == 30
    assert backend.metrics[-2:] == [LOGIN_THROTTLED, LOGIN_THROTTLED]
    assert backend.outcomes[-1] == (LOGIN_THROTTLED, user.id, None)
    assert backend.users.get(user.id).locked_until == backend.clock.now + throttle.base_delay
    assert backend.sessions.families == {}


def test_given_failures_past_the_free_ones_then_each_wait_doubles_up_to_the_maximum(
    backend: InMemoryBackend, user: User
) -> None:
    throttle = backend.policy.throttle
    _fail_logins(backend, throttle.free_failures - 1)
    waits = []
    for _ in range(8):
        with pytest.raises(LoginThrottled) as refused:
            backend.auth_service().login(user.email, WRONG)
        waits.append(refused.value.retry_after)
        locked_until = backend.users.get(user.id).locked_until
        assert locked_until is not None
        backend.clock.advance(locked_until - backend.clock.now)

    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert backend.users.failed_logins(user.id) == throttle.free_failures + 7


def test_given_a_wait_that_has_passed_when_the_password_is_right_then_in_and_the_run_ends(
    backend: InMemoryBackend, user: User
) -> None:
    _fail_logins(backend, backend.policy.throttle.free_failures - 1)
    with pytest.raises(LoginThrottled):
        backend.auth_service().login(user.email, WRONG)
    backend.clock.advance(backend.policy.throttle.base_delay)

    backend.auth_service().login(user.email, PASSWORD)

    assert backend.users.get(user.id).locked_until is None
    assert backend.users.failed_logins(user.id) == 0


def test_given_a_few_failures_when_the_password_is_right_then_in_and_the_counter_is_cleared(
    backend: InMemoryBackend, user: User
) -> None:
    free = backend.policy.throttle.free_failures
    _fail_logins(backend, free - 1)

    backend.auth_service().login(user.email, PASSWORD)
    _fail_logins(backend, free - 1)

    assert backend.users.failed_logins(user.id) == free - 1
    assert backend.users.get(user.id).locked_until is None


def test_given_100_consecutive_failures_then_only_a_password_reset_lets_the_account_in(
    backend: InMemoryBackend, user: User
) -> None:
    """NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account."""
    backend.users.items[user.id].failed_logins = 99
    backend.users.items[user.id].account = backend.users.get(user.id).model_copy(
        update={"failed_logins": 99}
    )

    with pytest.raises(PasswordResetRequired) as hundredth:
        backend.auth_service().login(user.email, WRONG)
    backend.clock.advance(timedelta(days=30))
    with pytest.raises(PasswordResetRequired) as later:
        backend.auth_service().login(user.email, PASSWORD)

    assert hundredth.value.retry_after == later.value.retry_after == 900
    assert "reset your password" in later.value.message
    assert backend.sessions.families == {}


def test_given_parallel_guesses_counted_after_the_account_was_read_then_refused_as_a_failure(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A right password whose success would follow a failure counted meanwhile gets the same
    401 as a wrong one: in a burst, a 429 would single it out."""
    read_before = backend.users.get(user.id)
    _fail_logins(backend, 1)
    monkeypatch.setattr(backend.users, "find_by_email", lambda email: read_before)
    backend.metrics.clear()

    with pytest.raises(AuthenticationFailed) as refused:
        backend.auth_service().login(user.email, PASSWORD)

    assert refused.value.message == "Invalid credentials"
    assert backend.metrics == [LOGIN_THROTTLED]
    assert backend.sessions.families == {}


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
    cheaper = InMemoryBackend(
        Clock(real_now()), hasher=PasswordHasher(Argon2Cost(memory_kib=32, time_cost=1))
    )
    cheaper.register()
    upgraded = InMemoryBackend(Clock(real_now()), users=cheaper.users)

    upgraded.auth_service().login("ann@example.com", PASSWORD)

    account = upgraded.users.find_by_email("ann@example.com")
    assert account is not None
    assert account.password_hash.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert upgraded.hasher.verify(PASSWORD, account.password_hash)
    assert account.user.version == 1


def test_given_a_disabled_user_when_logging_in_with_the_password_then_refused_until_enabled(
    backend: InMemoryBackend, user: User
) -> None:
    admin = backend.register(email="admin@example.com", name="Admin")
    service, caller = backend.admin_service(), backend.caller(admin, admin=True)
    service.set_status(caller, user.id, UserStatus.DISABLED)

    with pytest.raises(AuthenticationFailed):
        backend.auth_service().login(user.email, PASSWORD)

    service.set_status(caller, user.id, UserStatus.ACTIVE)
    backend.auth_service().login(user.email, PASSWORD)
    assert backend.metrics == [LOGIN_FAILED, LOGIN_SUCCEEDED]
