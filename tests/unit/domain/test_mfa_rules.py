"""MfaService's rules on in-memory ports with a settable clock: pending enrolments expire, the
confirming code's step is spent, the policy keeps covered users from turning MFA off, resets
that have nothing to reset change nothing, and step-up is asked of every dangerous operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from domain.access import Caller
from domain.admin_service import AdminService
from domain.errors import AccessDenied, InvalidMfaCode, MfaStateConflict
from domain.mail import MailKind
from domain.mfa import PENDING_ENROLMENT_LIFETIME, MfaService
from domain.mfa_crypto import MfaKeys
from domain.mfa_policy import MfaPolicy
from domain.password_guard import PasswordGuard
from domain.users import Registration, Role, User, UserAccount
from tests.support.fakes import InMemoryLoginState, InMemoryUserRepository
from tests.support.in_memory_backend import TOY_ARGON2ID_HASHER, Clock

NOW = datetime(2026, 12, 6, 12, 0, 5, tzinfo=UTC)


class StepUpLog:
    """Records each step-up asked; refuses when told to."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []
        self.refuse = False

    def __call__(self, caller: Caller, account: UserAccount, current_password: str | None) -> None:
        self.asked.append(current_password)
        if self.refuse:
            raise AccessDenied("Reauthentication required")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def step_up() -> StepUpLog:
    return StepUpLog()


def service(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog, policy: MfaPolicy
) -> MfaService:
    return MfaService(
        users=users,
        keys=MfaKeys(lambda: b"k" * 64),
        issuer="Acme",
        step_up=step_up,
        policy=policy,
        clock=clock,
    )


def register(users: InMemoryUserRepository, *, admin: bool = False) -> Caller:
    from domain.user_service import UserService

    guard = PasswordGuard(InMemoryLoginState(users), TOY_ARGON2ID_HASHER)
    accounts = UserService(users, TOY_ARGON2ID_HASHER, clock=lambda: NOW, password_guard=guard)
    user: User = accounts.register(
        Registration(email="ann@example.com", password="a long enough passphrase", name="Ann")
    )
    if admin:
        user = AdminService(users).grant_role(user.email, Role.ADMIN, force=True)
    return Caller(user_id=user.id, roles=frozenset(map(str, user.roles)), session_generation=0)


def enrol(mfa: MfaService, caller: Caller, clock: Clock) -> pyotp.TOTP:
    totp = pyotp.TOTP(mfa.start_totp(caller, None).secret)
    mfa.confirm_totp(caller, totp.at(clock.now))
    return totp


def test_given_an_enrolment_older_than_its_lifetime_when_confirmed_then_409(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    totp = pyotp.TOTP(mfa.start_totp(caller, None).secret)
    clock.advance(PENDING_ENROLMENT_LIFETIME + timedelta(seconds=1))

    with pytest.raises(MfaStateConflict):
        mfa.confirm_totp(caller, totp.at(clock.now))
    assert users.get(caller.user_id).user.mfa_enabled is False


def test_given_a_confirmed_enrolment_then_the_confirming_step_is_spent_and_one_version_added(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    totp = enrol(mfa, caller, clock)

    account = users.get(caller.user_id)
    assert account.mfa.totp_last_step == totp.timecode(clock.now)
    assert (account.user.mfa_enabled, account.user.version) == (True, 2)
    assert len(account.mfa.recovery_codes) == 10
    assert account.mfa.totp_pending is None
    assert mfa.status(caller).model_dump() == {"totp": True, "recovery_codes_left": 10}


def test_given_a_wrong_code_when_confirming_then_400_and_the_enrolment_still_pending(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    totp = pyotp.TOTP(mfa.start_totp(caller, None).secret)

    with pytest.raises(InvalidMfaCode):
        mfa.confirm_totp(caller, totp.at(clock.now - timedelta(minutes=5)))
    mfa.confirm_totp(caller, totp.at(clock.now))
    assert users.get(caller.user_id).user.mfa_enabled is True


@pytest.mark.parametrize(
    ("policy", "admin", "refused"),
    [
        (MfaPolicy.OPTIONAL, True, False),
        (MfaPolicy.REQUIRED_FOR_ADMINS, False, False),
        (MfaPolicy.REQUIRED_FOR_ADMINS, True, True),
        (MfaPolicy.REQUIRED, False, True),
    ],
)
def test_given_a_policy_when_users_turn_their_own_mfa_off_then_only_uncovered_users_may(
    users: InMemoryUserRepository, clock: Clock, policy: MfaPolicy, admin: bool, refused: bool
) -> None:
    mfa = service(users, clock, StepUpLog(), policy)
    caller = register(users, admin=admin)
    enrol(mfa, caller, clock)

    if refused:
        with pytest.raises(MfaStateConflict):
            mfa.disable_totp(caller, None)
    else:
        mfa.disable_totp(caller, None)
    assert users.get(caller.user_id).user.mfa_enabled is refused
    assert (MailKind.MFA_DISABLED in [m.kind for m in users.outbox]) is not refused


def test_given_every_dangerous_operation_then_each_asks_for_step_up_first(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    step_up.refuse = True
    with pytest.raises(AccessDenied):
        mfa.start_totp(caller, "pw")
    assert users.get(caller.user_id).mfa.totp_pending is None
    step_up.refuse = False
    enrol(mfa, caller, clock)
    step_up.refuse = True
    before = users.get(caller.user_id)

    for operation in (mfa.disable_totp, mfa.new_recovery_codes):
        with pytest.raises(AccessDenied):
            operation(caller, "pw")

    assert users.get(caller.user_id) == before
    assert step_up.asked == ["pw", None, "pw", "pw"]


def test_given_a_state_that_refuses_the_operation_then_409_before_any_step_up(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    with pytest.raises(MfaStateConflict):
        mfa.new_recovery_codes(caller, None)
    mfa.disable_totp(caller, None)  # nothing to turn off: done, nothing asked
    enrol(mfa, caller, clock)
    asked = len(step_up.asked)

    with pytest.raises(MfaStateConflict):
        mfa.start_totp(caller, None)

    assert len(step_up.asked) == asked == 1


def test_given_nothing_set_up_when_reset_then_nothing_changes_and_no_mail(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.OPTIONAL)
    caller = register(users)
    before = users.get(caller.user_id)

    user, changed = mfa.reset_by_operator("ANN@example.com")

    assert (user.id, changed) == (caller.user_id, False)
    assert users.get(caller.user_id) == before
    assert [m.kind for m in users.outbox] == [MailKind.VERIFY_EMAIL]


def test_given_mfa_on_when_reset_then_off_sessions_revoked_and_mailed(
    users: InMemoryUserRepository, clock: Clock, step_up: StepUpLog
) -> None:
    mfa = service(users, clock, step_up, MfaPolicy.REQUIRED)
    caller = register(users)
    enrol(mfa, caller, clock)

    _, changed = mfa.reset_by_operator("ann@example.com")

    account = users.get(caller.user_id)
    assert changed is True
    assert (account.user.mfa_enabled, account.mfa.totp_secret) == (False, None)
    assert account.session_generation == 1
    assert users.outbox[-1].kind is MailKind.MFA_RESET
