"""Device tokens (domain/login_throttle.py): a login from a device the owner used is judged on
that device's failures alone, so no one else's failures keep the owner out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.auth_models import LoginTokens, LogoutRequest
from domain.errors import AuthenticationFailed, LoginThrottled, PasswordResetRequired
from domain.login_throttle import ThrottlePolicy, ThrottleState, hash_device_token
from domain.sessions import AuthPolicy
from domain.users import User
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend


def real_now() -> datetime:
    """Issued tokens are verified, and PyJWT checks their expiry against the real time: each
    test's clock starts at the real time of that test (not of the module's import)."""
    return datetime.now(UTC).replace(microsecond=0)


WRONG = "not the password at all"


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(real_now()))


@pytest.fixture
def user(backend: InMemoryBackend) -> User:
    return backend.register()


def _login(
    backend: InMemoryBackend, password: str = PASSWORD, device: str | None = None
) -> LoginTokens:
    tokens = backend.auth_service().login("ann@example.com", password, device)
    assert isinstance(tokens, LoginTokens)  # no second factor in these tests
    return tokens


def _attack(backend: InMemoryBackend, guesses: int) -> None:
    """Wrong passwords without a device token, each answered 401 or 429."""
    for _ in range(guesses):
        with pytest.raises((AuthenticationFailed, LoginThrottled, PasswordResetRequired)):
            _login(backend, WRONG)


def test_given_a_login_then_a_device_token_is_returned_and_stored_only_as_a_hash(
    backend: InMemoryBackend, user: User
) -> None:
    tokens = _login(backend)

    assert len(tokens.device_token) >= 40
    [stored] = backend.devices.devices.values()
    assert stored.token_hash == hash_device_token(tokens.device_token)
    assert tokens.device_token not in repr(backend.devices.devices)
    expected_end = backend.clock.now + timedelta(days=365)
    assert (stored.user_id, stored.expires_at) == (user.id, expected_end)


def test_given_an_attacker_throttling_the_account_then_the_owners_device_still_logs_in(
    backend: InMemoryBackend, user: User
) -> None:
    device = _login(backend).device_token
    _attack(backend, 50)

    with pytest.raises(LoginThrottled):
        _login(backend)  # a new device (or a client that ignores device tokens) waits
    tokens = _login(backend, device=device)

    assert backend.verifier().verify(tokens.access_token).sub == user.id
    assert tokens.device_token == device  # the same device stays trusted, for longer
    assert backend.users.failed_logins(user.id) >= backend.policy.throttle.free_failures


def test_given_100_failures_by_someone_else_then_the_owners_device_still_logs_in(
    backend: InMemoryBackend, user: User
) -> None:
    device = _login(backend).device_token
    stored = backend.users.items[user.id]
    stored.failed_logins = 100
    stored.account = stored.account.model_copy(update={"failed_logins": 100})

    with pytest.raises(PasswordResetRequired):
        _login(backend)
    assert _login(backend, device=device).device_token == device


def test_given_wrong_passwords_from_a_device_then_they_throttle_that_device_only(
    backend: InMemoryBackend, user: User
) -> None:
    device = _login(backend).device_token
    free = backend.policy.throttle.free_failures
    for _ in range(free - 1):
        with pytest.raises(AuthenticationFailed):
            _login(backend, WRONG, device)

    with pytest.raises(LoginThrottled) as throttled:
        _login(backend, WRONG, device)
    with pytest.raises(LoginThrottled):
        _login(backend, PASSWORD, device)

    assert throttled.value.retry_after == 30
    assert backend.users.failed_logins(user.id) == 0  # the account's run is untouched
    _login(backend)  # a login without the device token is judged on the account
    backend.clock.advance(timedelta(seconds=30))
    _login(backend, device=device)
    assert backend.devices.devices[hash_device_token(device)].state.failures == 0


@pytest.mark.parametrize(
    "token", ["", "never-issued", "x" * 256, "\u00e9\u00e8 \u202e", "a.b.c"], ids=repr
)
def test_given_an_unknown_device_token_then_it_is_ignored_and_the_account_judges(
    backend: InMemoryBackend, user: User, token: str
) -> None:
    _login(backend)
    _attack(backend, backend.policy.throttle.free_failures)

    with pytest.raises(LoginThrottled):
        _login(backend, device=token)


def test_given_another_users_device_token_then_it_does_not_help_with_this_account(
    backend: InMemoryBackend, user: User
) -> None:
    backend.register(email="bob@example.com", name="Bob")
    bob = backend.auth_service().login("bob@example.com", PASSWORD)
    assert isinstance(bob, LoginTokens)
    bobs = bob.device_token
    _attack(backend, backend.policy.throttle.free_failures)

    with pytest.raises(LoginThrottled):
        _login(backend, device=bobs)


@pytest.mark.parametrize("revocation", ["logout all", "password reset"])
def test_given_a_revocation_then_earlier_device_tokens_are_no_longer_trusted(
    backend: InMemoryBackend, user: User, revocation: str
) -> None:
    device = _login(backend).device_token
    backend.clock.advance(timedelta(seconds=1))
    if revocation == "logout all":
        backend.auth_service().logout(
            backend.caller(user), LogoutRequest.model_validate({"all": True})
        )
    else:
        backend.login_state.revoke_all_sessions(user.id, backend.clock.now)
    backend.clock.advance(timedelta(seconds=1))
    _attack(backend, backend.policy.throttle.free_failures)

    with pytest.raises(LoginThrottled):
        _login(backend, device=device)


def test_given_an_expired_device_token_then_it_is_not_trusted() -> None:
    backend = InMemoryBackend(
        Clock(real_now()),
        policy=AuthPolicy(throttle=ThrottlePolicy(device_lifetime=timedelta(days=1))),
    )
    backend.register()
    device = _login(backend).device_token
    backend.clock.advance(timedelta(days=1))
    _attack(backend, backend.policy.throttle.free_failures)

    with pytest.raises(LoginThrottled):
        _login(backend, device=device)


def test_given_a_device_whose_own_failures_need_a_reset_then_it_falls_back_to_the_account(
    backend: InMemoryBackend, user: User
) -> None:
    device = _login(backend).device_token
    token_hash = hash_device_token(device)
    backend.devices.devices[token_hash] = replace(
        backend.devices.devices[token_hash], state=ThrottleState(failures=100)
    )

    tokens = _login(backend, device=device)

    assert tokens.device_token != device  # judged on the account, and a new device token


def test_given_parallel_guesses_on_the_device_after_it_was_read_then_the_success_is_refused(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = _login(backend).device_token
    read_before = backend.devices.find_device(hash_device_token(device))
    with pytest.raises(AuthenticationFailed):
        _login(backend, WRONG, device)
    monkeypatch.setattr(backend.devices, "find_device", lambda token_hash: read_before)

    with pytest.raises(AuthenticationFailed) as refused:
        _login(backend, PASSWORD, device)

    assert refused.value.message == "Invalid credentials"


@pytest.mark.parametrize(
    ("free", "base", "cap", "failures", "expected"),
    [
        (5, 30, 900, 4, 0),
        (5, 30, 900, 5, 30),
        (5, 30, 900, 6, 60),
        (5, 30, 900, 10, 900),
        (5, 30, 900, 99, 900),
        (1, 1, 3600, 1, 1),
        (3, 10, 15, 4, 15),
    ],
)
def test_given_a_policy_then_the_wait_after_each_failure(
    free: int, base: int, cap: int, failures: int, expected: int
) -> None:
    policy = ThrottlePolicy(
        free_failures=free, base_delay=timedelta(seconds=base), max_delay=timedelta(seconds=cap)
    )

    assert policy.delay_after(failures) == timedelta(seconds=expected)


@pytest.mark.parametrize(
    "settings",
    [
        {"free_failures": 0},
        {"free_failures": 100},
        {"reset_after": 101},
        {"base_delay": timedelta(0)},
        {"base_delay": timedelta(seconds=60), "max_delay": timedelta(seconds=30)},
    ],
)
def test_given_an_impossible_policy_then_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="need"):
        ThrottlePolicy(**settings)  # type: ignore[arg-type]
