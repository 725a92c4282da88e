"""Login throttling that protects the owner (docs/api/auth.md, "Login throttling").

OWASP's guidance on slowing online guessing, with NIST SP 800-63B's bound:

- Failures are counted per *scope*: a login that presents a valid device token for the account is
  judged on that device's failures alone; every other login (no token, someone else's, an expired
  or revoked one) on the account's. An attacker, who has no device token of the owner, can only
  ever slow the account's scope: the owner's devices keep logging in.
- No hard lock: after ``free_failures`` consecutive failures each further one imposes a wait that
  doubles from ``base_delay`` up to ``max_delay`` (answered 429 with ``Retry-After``).
- After ``reset_after`` consecutive failures (at most 100, NIST SP 800-63B section 5.2.2) the scope
  needs a password reset; a device whose own failures reach it is no longer trusted.
- A success ends the run of its own scope only.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

NIST_MAX_CONSECUTIVE_FAILURES = 100


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    reset_after: int = NIST_MAX_CONSECUTIVE_FAILURES
    device_lifetime: timedelta = timedelta(days=365)

    def __post_init__(self) -> None:
        if not 1 <= self.free_failures < self.reset_after <= NIST_MAX_CONSECUTIVE_FAILURES:
            raise ValueError("need 1 <= free_failures < reset_after <= 100")
        if not timedelta(0) < self.base_delay <= self.max_delay:
            raise ValueError("need 0 < base_delay <= max_delay")

    def delay_after(self, failures: int) -> timedelta:
        """The wait once ``failures`` consecutive failures are recorded (zero while free)."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 32)  # 2**32 base delays exceed any cap
        delay: timedelta = self.base_delay * (1 << doublings)
        return min(delay, self.max_delay)

    def requires_reset(self, failures: int) -> bool:
        return failures >= self.reset_after


@dataclass(frozen=True)
class ThrottleState:
    """One scope's run of consecutive failures and the wait it imposes."""

    failures: int = 0
    throttled_until: datetime | None = None

    def wait(self, now: datetime) -> timedelta:
        if self.throttled_until is None or self.throttled_until <= now:
            return timedelta(0)
        return self.throttled_until - now


@dataclass(frozen=True)
class TrustedDevice:
    """A device the user logged in from, known by the SHA-256 of its device token."""

    token_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    state: ThrottleState = ThrottleState()

    def trusted_for(self, user_id: str, revoked_since: datetime | None, now: datetime) -> bool:
        """Only for its own user, until it expires or the user signs out everywhere (or changes
        or resets the password, or is disabled); the guard also stops trusting it once its own
        failures need a reset."""
        return (
            self.user_id == user_id
            and self.expires_at > now
            and (revoked_since is None or self.created_at > revoked_since)
        )


def new_device_token() -> str:
    return secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """256 random bits: a fast hash suffices (nothing to brute-force), as for refresh tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def retry_after_seconds(wait: timedelta) -> int:
    """``Retry-After`` is whole seconds; never 0 for a wait that has not ended."""
    return max(1, math.ceil(wait.total_seconds()))
