"""An unknown email costs a login what a wrong password costs: one key derivation at the same cost.

Counting derivations is exact; the timing check runs at a real cost (argon2id 8 MiB, ~15 ms) and
compares medians with generous bounds, so it only fails when one path skips or doubles the work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from domain.auth_service import AuthService
from domain.errors import AuthenticationFailed
from domain.login_throttle import ThrottlePolicy
from domain.passwords import Argon2Cost, PasswordHasher
from domain.sessions import AuthPolicy
from tests.support.in_memory_backend import Clock, InMemoryBackend

EMAIL = "known@example.com"
PASSWORD = "the right passphrase"


class CountingHasher(PasswordHasher):
    def __init__(self, cost: Argon2Cost) -> None:
        super().__init__(cost)
        self.derivations = 0

    def hash(self, password: str) -> str:
        self.derivations += 1
        return super().hash(password)

    def verify(self, password: str, encoded: str) -> bool:
        self.derivations += 1
        return super().verify(password, encoded)


def _service(hasher: PasswordHasher) -> AuthService:
    # No wait during the samples: every wrong guess takes the wrong-password path.
    never_locks = AuthPolicy(throttle=ThrottlePolicy(free_failures=99))
    backend = InMemoryBackend(Clock(datetime.now(UTC)), hasher=hasher, policy=never_locks)
    backend.register(email=EMAIL, password=PASSWORD, name="Known")
    return backend.auth_service()


def _failed_login(service: AuthService, email: str) -> Callable[[], float]:
    def attempt() -> float:
        started = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            service.login(email, "a wrong passphrase")
        return time.perf_counter() - started

    return attempt


@pytest.mark.parametrize("email", ["nobody@example.com", EMAIL], ids=["unknown", "wrong-password"])
def test_given_a_fresh_service_when_the_first_login_fails_then_exactly_one_derivation(
    email: str,
) -> None:
    hasher = CountingHasher(Argon2Cost(memory_kib=64, time_cost=1))
    service = _service(hasher)
    hasher.derivations = 0

    _failed_login(service, email)()

    assert hasher.derivations == 1


def test_given_a_real_cost_when_unknown_and_known_emails_fail_then_the_median_times_match() -> None:
    service = _service(PasswordHasher(Argon2Cost(memory_kib=8 * 1024, time_cost=2)))
    unknown, wrong = _failed_login(service, "nobody@example.com"), _failed_login(service, EMAIL)

    samples = [(unknown(), wrong()) for _ in range(7)]

    ratio = statistics.median(w for _, w in samples) / statistics.median(u for u, _ in samples)
    assert 0.5 < ratio < 2.0, samples
