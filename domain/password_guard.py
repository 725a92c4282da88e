"""Every check of a stored password: login, idempotent registration replays, proving the current
password. All of them count failures and honour the throttle (domain/login_throttle.py), so no
route guesses faster than login does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.clock import Clock, utc_now
from domain.login_throttle import ThrottlePolicy, ThrottleState, TrustedDevice
from domain.password_policy import password_forms
from domain.passwords import PasswordHasher
from domain.ports import DeviceRepository, LoginStateRepository
from domain.users import UserAccount


class Verdict(Enum):
    ACCEPTED = "accepted"
    ACCEPTED_AS_TYPED = "accepted as typed"
    """Matched a hash made before passwords were normalized: re-hash the normalized form."""
    REFUSED = "refused"
    LOCKED = "locked"
    """Throttled before this attempt, or by this failure: whatever the password, no verdict."""
    RESET_REQUIRED = "reset required"
    """The scope's consecutive failures reached the bound: only a password reset ends them."""


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    wait: timedelta = timedelta(0)
    """For LOCKED and RESET_REQUIRED: how long before asking again makes sense."""

    @property
    def accepted(self) -> bool:
        return self.verdict in (Verdict.ACCEPTED, Verdict.ACCEPTED_AS_TYPED)


class PasswordGuard:
    def __init__(
        self,
        login_state: LoginStateRepository,
        hasher: PasswordHasher,
        policy: ThrottlePolicy | None = None,
        clock: Clock = utc_now,
        devices: DeviceRepository | None = None,
    ) -> None:
        """``devices``: only login presents device tokens; other proofs are the account's."""
        self._login_state = login_state
        self._hasher = hasher
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._devices = devices
        self._dummy: str | None = None

    def check(
        self, account: UserAccount, password: str, device: TrustedDevice | None = None
    ) -> Outcome:
        """A wrong password counts as a failure of the scope (``device``'s when given, else the
        account's); a throttled scope is not checked at all, at the cost of a real check (so it
        cannot be told apart by timing)."""
        now = self._clock()
        if (throttled := self.throttled(account, device)) is not None:
            self.spend_a_verification(password)
            return throttled
        normalized, *as_typed = password_forms(password)
        if self._hasher.verify(normalized, account.password_hash):
            return Outcome(Verdict.ACCEPTED)
        if as_typed and self._hasher.verify(as_typed[0], account.password_hash):
            return Outcome(Verdict.ACCEPTED_AS_TYPED)
        return self._count_failure(account, device, now)

    def prove(self, account: UserAccount, password: str) -> Outcome:
        """``check``, for a proof outside login (the current password, a registration replay):
        an accepted password counts only if no concurrent guess was counted or throttled the
        account since it was read (the same conditional write as a login's), so a burst of
        parallel guesses gets no more verdicts than guesses made one after another."""
        outcome = self.check(account, password)
        if outcome.accepted and not self._login_state.record_successful_login(
            account, None, self._clock()
        ):
            return Outcome(Verdict.LOCKED, self.policy.base_delay)
        return outcome

    def throttled(
        self, account: UserAccount, device: TrustedDevice | None = None
    ) -> Outcome | None:
        """The scope's verdict while it is throttled (LOCKED or RESET_REQUIRED), else None."""
        state = (
            device.state if device else ThrottleState(account.failed_logins, account.locked_until)
        )
        if self.policy.requires_reset(state.failures):
            return Outcome(Verdict.RESET_REQUIRED, self.policy.max_delay)
        if wait := state.wait(self._clock()):
            return Outcome(Verdict.LOCKED, wait)
        return None

    def count_failure(self, account: UserAccount, device: TrustedDevice | None = None) -> Outcome:
        """A failed proof other than a password (a wrong second-factor code): it counts toward
        the scope's throttle exactly as a wrong password does."""
        return self._count_failure(account, device, self._clock())

    def spend_a_verification(self, password: str) -> None:
        """As long as a failed real check, the first time too (making the dummy derives
        nothing): one verification per form the password may have been hashed as."""
        if self._dummy is None:
            self._dummy = self._hasher.unmatchable_hash()
        for form in password_forms(password):
            self._hasher.verify(form, self._dummy)

    def _count_failure(
        self, account: UserAccount, device: TrustedDevice | None, now: datetime
    ) -> Outcome:
        if device is not None and self._devices is not None:
            failures = self._devices.record_device_failure(device.token_hash, now)
        else:
            failures = self._login_state.record_failed_login(account.user.id, now)
        if failures is None:  # deleted meanwhile: nothing left to protect
            return Outcome(Verdict.REFUSED)
        if self.policy.requires_reset(failures):
            return Outcome(Verdict.RESET_REQUIRED, self.policy.max_delay)
        delay = self.policy.delay_after(failures)
        if not delay:
            return Outcome(Verdict.REFUSED)
        if device is not None and self._devices is not None:
            self._devices.throttle_device(device.token_hash, now + delay)
        else:
            self._login_state.throttle(account.user.id, now + delay, now)
        return Outcome(Verdict.LOCKED, delay)
