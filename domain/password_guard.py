"""Every check of a stored password: login, idempotent registration replays, proving the current
password. All of them count failures and honour the lockout, so no route guesses faster than
login does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from domain.password_policy import password_forms
from domain.passwords import PasswordHasher
from domain.ports import LoginStateRepository
from domain.users import UserAccount


class Verdict(Enum):
    ACCEPTED = "accepted"
    ACCEPTED_AS_TYPED = "accepted as typed"
    """Matched a hash made before passwords were normalized: re-hash the normalized form."""
    REFUSED = "refused"
    LOCKED = "locked"
    """Locked before this attempt, or by this failure: whatever the password, no verdict on it."""

    @property
    def accepted(self) -> bool:
        return self in (Verdict.ACCEPTED, Verdict.ACCEPTED_AS_TYPED)


@dataclass(frozen=True)
class LockoutPolicy:
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)


class PasswordGuard:
    def __init__(
        self,
        login_state: LoginStateRepository,
        hasher: PasswordHasher,
        policy: LockoutPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._login_state = login_state
        self._hasher = hasher
        self.policy = policy or LockoutPolicy()
        self._clock = clock
        self._dummy: str | None = None

    def check(self, account: UserAccount, password: str) -> Verdict:
        """A wrong password counts as a failed login; a locked account is not checked at all, at
        the cost of a real check (so it cannot be told apart by timing)."""
        now = self._clock()
        if account.locked_until is not None and account.locked_until > now:
            self.spend_a_verification(password)
            return Verdict.LOCKED
        normalized, *as_typed = password_forms(password)
        if self._hasher.verify(normalized, account.password_hash):
            return Verdict.ACCEPTED
        if as_typed and self._hasher.verify(as_typed[0], account.password_hash):
            return Verdict.ACCEPTED_AS_TYPED
        locked = self._login_state.record_failed_login(
            account.user.id, now, self.policy.max_failed_logins, now + self.policy.lockout
        )
        return Verdict.LOCKED if locked else Verdict.REFUSED

    def prove(self, account: UserAccount, password: str) -> Verdict:
        """``check``, for a proof outside login (the current password, a registration replay):
        an accepted password counts only if no concurrent guess locked the account or reached
        the limit since it was read (the same conditional write as a login's), so a burst of
        parallel guesses gets no more verdicts than guesses made one after another."""
        verdict = self.check(account, password)
        if verdict.accepted and not self._login_state.record_successful_login(
            account, None, self._clock(), self.policy.max_failed_logins
        ):
            return Verdict.LOCKED
        return verdict

    def count_failure(self, account: UserAccount) -> None:
        """A failed proof other than a password (a wrong second-factor code): it counts toward
        the same lockout as a wrong password."""
        now = self._clock()
        self._login_state.record_failed_login(
            account.user.id, now, self.policy.max_failed_logins, now + self.policy.lockout
        )

    def spend_a_verification(self, password: str) -> None:
        """As long as a failed real check, the first time too (making the dummy derives
        nothing): one verification per form the password may have been hashed as."""
        if self._dummy is None:
            self._dummy = self._hasher.unmatchable_hash()
        for form in password_forms(password):
            self._hasher.verify(form, self._dummy)
