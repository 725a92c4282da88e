"""Recent authentication for dangerous operations (docs/api/auth.md, "Recent authentication").

Deleting your own account and changing your email or password (and, later, managing MFA and
passkeys) must not be in reach of a stolen or forgotten-open session: the request proves the
current password, or its token's session began with a login at most ``window`` ago (``auth_time``,
which refresh keeps). A user whom the second-factor policy covers also needs a token whose login
used a second factor (``amr``); today the policy covers nobody (MFA, issue 21, plugs in here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.access import Caller
from domain.clock import Clock, utc_now
from domain.errors import AccessDenied, ReauthenticationRequired
from domain.password_guard import PasswordGuard
from domain.users import UserAccount

DEFAULT_WINDOW = timedelta(minutes=10)
# RFC 8176 methods that prove something besides a password: a one-time code, a hardware or
# software key (passkeys).
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})
# auth_time may be a little ahead of this function's clock (another function signed the token).
CLOCK_SKEW = timedelta(seconds=10)

SecondFactorPolicy = Callable[[UserAccount], bool]
"""Whether dangerous operations of this account need a second factor in the token's ``amr``."""


def no_second_factor(account: UserAccount) -> bool:
    """Until MFA exists, no account needs a second factor."""
    return False


@dataclass(frozen=True)
class ReauthenticationPolicy:
    window: timedelta = DEFAULT_WINDOW
    second_factor_required: SecondFactorPolicy = no_second_factor


class RecentAuthentication:
    """The rule, with the password guard that checks a ``current_password`` like a login."""

    def __init__(
        self,
        guard: PasswordGuard,
        policy: ReauthenticationPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._guard = guard
        self.policy = policy or ReauthenticationPolicy()
        self._clock = clock

    def require(self, caller: Caller, account: UserAccount, current_password: str | None) -> None:
        """Returns when ``caller`` may do a dangerous operation on ``account`` (their own).

        A wrong ``current_password`` is refused even from a recent session, and counts as a
        failed login (a locked account proves nothing): a guess is never free."""
        if self.policy.second_factor_required(account) and not (
            SECOND_FACTOR_METHODS & set(caller.amr)
        ):
            raise ReauthenticationRequired
        if current_password is not None:
            if not self._guard.prove(account, current_password).accepted:
                raise AccessDenied("current_password is wrong")
            return
        if not self.is_recent(caller):
            raise ReauthenticationRequired

    def is_recent(self, caller: Caller) -> bool:
        """A window of zero: no session is recent, the password is always asked."""
        age = self._clock() - caller.authenticated_at
        return bool(self.policy.window) and -CLOCK_SKEW <= age <= self.policy.window
