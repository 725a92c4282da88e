"""Login: the password step, the second factor's step, and the devices a login trusts; the
session it starts is kept by domain/sessions.py (refresh, logout).

Every credential failure raises the same ``AuthenticationFailed`` so callers cannot tell an unknown
email from a wrong password, a disabled account, or a revoked session. A throttled scope answers
429 (``LoginThrottled``, ``PasswordResetRequired``) whatever the password
(domain/login_throttle.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from domain.access import Caller
from domain.auth_models import (
    PASSWORD_METHOD,
    LoginTokens,
    LogoutRequest,
    TokenPair,
)
from domain.clock import Clock, utc_now
from domain.email_lookup import account_by_email
from domain.errors import AuthenticationFailed, LoginThrottled, PasswordResetRequired
from domain.login_throttle import (
    TrustedDevice,
    hash_device_token,
    new_device_token,
    retry_after_seconds,
)
from domain.password_guard import Outcome, PasswordGuard, Verdict
from domain.password_policy import normalize_password
from domain.passwords import PasswordHasher
from domain.ports import (
    DeviceRepository,
    LoginStateRepository,
    RecordOutcome,
    SessionRepository,
    UserRepository,
    record_nothing,
)
from domain.sessions import AuthPolicy, SessionService
from domain.tokens import TokenIssuer
from domain.users import UserAccount, UserStatus

if TYPE_CHECKING:
    from domain.mfa_login import MfaLogin
    from domain.mfa_models import MfaRequired, Proof
    from domain.user_migration import UserMigration

# Metric names, one per outcome an operator watches.
LOGIN_SUCCEEDED = "LoginSucceeded"
LOGIN_FAILED = "LoginFailed"
LOGIN_THROTTLED = "LoginThrottled"
PASSWORD_RESET_REQUIRED = "LoginResetRequired"  # noqa: S105 - a metric name
SECOND_FACTOR_REQUIRED = "LoginSecondFactorRequired"


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        login_state: LoginStateRepository,
        sessions: SessionRepository,
        devices: DeviceRepository,
        hasher: PasswordHasher,
        issuer: Callable[[], TokenIssuer],
        policy: AuthPolicy | None = None,
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
        mfa: MfaLogin | None = None,
        migration: UserMigration | None = None,
    ) -> None:
        """``mfa``: the second step of logins (domain/mfa_login.py); without it no login asks
        for a second factor. ``migration``: the user pool users move over from at their first
        login (domain/user_migration.py); without it an unknown address is just unknown."""
        self._users = users
        self._login_state = login_state
        self._devices = devices
        self._hasher = hasher
        self._policy = policy or AuthPolicy()
        self._clock = clock
        self._record = record_metric
        self._session = SessionService(
            users=users,
            login_state=login_state,
            sessions=sessions,
            issuer=issuer,
            policy=self._policy,
            clock=clock,
            record_metric=record_metric,
        )
        self._guard = PasswordGuard(
            login_state, hasher, self._policy.throttle, clock, devices=devices
        )
        self._mfa = mfa
        self._migration = migration

    def login(
        self, email: str, password: str, device_token: str | None = None
    ) -> LoginTokens | MfaRequired:
        """``device_token``: what an earlier login from this device returned; one that is not
        (or no longer) this account's is ignored, as if none were sent. A user with a second
        factor gets an ``mfa_token`` for ``complete_mfa`` instead of tokens: the password step
        ends no run of failures (the second step's success does), so wrong codes cannot be
        reset by logging in again with the password."""
        account = account_by_email(self._users, email)
        if account is None and self._migration is not None:
            # Moved over if the other pool accepts the password, then logged in as anyone is.
            account = self._migration.migrate_with_password(email, password)
        now = self._clock()
        if account is None:
            self._guard.spend_a_verification(password)
            self._reject(LOGIN_FAILED)
        user_id = account.user.id
        device = self._trusted_device(account, device_token, now)
        if self._migration is not None and self._guard.throttled(account, device) is None:
            account = self._migration.with_pool_password(account, password)
        outcome = self._guard.check(account, password, device)
        self._refuse_unless_accepted(outcome, user_id)
        if account.user.status != UserStatus.ACTIVE:
            self._reject(LOGIN_FAILED, user_id)
        new_hash = self._rehash(account, password, outcome.verdict)
        if self._mfa is not None and self._mfa.required(account):
            if new_hash is not None:
                self._login_state.store_rehash(account, new_hash)
            self._record(SECOND_FACTOR_REQUIRED, user_id=user_id)
            return self._mfa.begin(account)
        if not self._after_successful_login(account, new_hash, device, now):
            # Guesses running in parallel all read the account before any of them was counted:
            # only those that finish before another failure is counted may succeed. The same
            # 401 as a wrong password, or a burst would single out the right one.
            self._reject(LOGIN_THROTTLED, user_id)
        self._record(LOGIN_SUCCEEDED, user_id=user_id)
        if device is None or device_token is None:
            device_token = self._trust_new_device(user_id, now)
        pair = self._session.start(account, now, (PASSWORD_METHOD,))
        return LoginTokens(**pair.model_dump(), device_token=device_token)

    def complete_mfa(
        self, mfa_token: str, proof: Proof, device_token: str | None = None
    ) -> LoginTokens:
        """The second step: the session starts once the factor is proven. Judged on the same
        scope as the password (``device_token``'s device, else the account): a throttled scope
        gets no verdict (429), a wrong proof counts as a failed login."""
        if self._mfa is None:
            raise AuthenticationFailed
        opened = self._mfa.open(mfa_token)
        account, user_id, now = opened.account, opened.account.user.id, self._clock()
        device = self._trusted_device(account, device_token, now)
        if (throttled := self._guard.throttled(account, device)) is not None:
            self._refuse_unless_accepted(throttled, user_id)
        factor = self._mfa.verify(opened, proof)
        if factor is None:
            self._refuse_unless_accepted(self._guard.count_failure(account, device), user_id)
            self._reject(LOGIN_FAILED, user_id)
        if not self._after_successful_login(account, None, device, now):
            self._reject(LOGIN_THROTTLED, user_id)
        self._record(LOGIN_SUCCEEDED, user_id=user_id)
        if device is None or device_token is None:
            device_token = self._trust_new_device(user_id, now)
        pair = self._session.start(account, now, (PASSWORD_METHOD, factor))
        return LoginTokens(**pair.model_dump(), device_token=device_token)

    # ------------------------------------------------------------ the session (domain/sessions.py)
    def refresh(self, refresh_token: str) -> TokenPair:
        return self._session.refresh(refresh_token)

    def logout(self, caller: Caller, request: LogoutRequest) -> None:
        self._session.logout(caller, request)

    def start_session(self, account: UserAccount, amr: tuple[str, ...]) -> TokenPair:
        """A session for a user another method authenticated (a passkey: ``amr`` says how);
        the password's bookkeeping is not involved."""
        return self._session.start(account, self._clock(), amr)

    # ------------------------------------------------------------ helpers
    def _trusted_device(
        self, account: UserAccount, device_token: str | None, now: datetime
    ) -> TrustedDevice | None:
        if device_token is None:
            return None
        device = self._devices.find_device(hash_device_token(device_token))
        if (
            device is None
            or not device.trusted_for(account.user.id, account.sessions_revoked_at, now)
            or self._policy.throttle.requires_reset(device.state.failures)
        ):
            return None
        return device

    def _trust_new_device(self, user_id: str, now: datetime) -> str:
        token = new_device_token()
        self._devices.add_device(
            TrustedDevice(
                token_hash=hash_device_token(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + self._policy.throttle.device_lifetime,
            )
        )
        return token

    def _refuse_unless_accepted(self, outcome: Outcome, user_id: str) -> None:
        if outcome.verdict is Verdict.RESET_REQUIRED:
            self._record(PASSWORD_RESET_REQUIRED, user_id=user_id)
            raise PasswordResetRequired(retry_after=retry_after_seconds(outcome.wait))
        if outcome.verdict is Verdict.LOCKED:
            self._record(LOGIN_THROTTLED, user_id=user_id)
            raise LoginThrottled(retry_after=retry_after_seconds(outcome.wait))
        if not outcome.accepted:
            self._reject(LOGIN_FAILED, user_id)

    def _rehash(self, account: UserAccount, password: str, verdict: Verdict) -> str | None:
        """A new hash for an old-cost hash, or one made before passwords were normalized."""
        if verdict is Verdict.ACCEPTED_AS_TYPED or self._hasher.needs_rehash(account.password_hash):
            return self._hasher.hash(normalize_password(password))
        return None

    def _after_successful_login(
        self,
        account: UserAccount,
        new_hash: str | None,
        device: TrustedDevice | None,
        now: datetime,
    ) -> bool:
        """Ends the scope's run of failures and stores ``new_hash`` (``_rehash``)."""
        if device is None:
            return self._login_state.record_successful_login(account, new_hash, now)
        renewed = TrustedDevice(
            token_hash=device.token_hash,
            user_id=device.user_id,
            created_at=device.created_at,
            expires_at=now + self._policy.throttle.device_lifetime,
            state=device.state,
        )
        if not self._devices.record_device_success(renewed, now):
            return False
        if new_hash is not None:
            self._login_state.store_rehash(account, new_hash)
        return True

    def _reject(self, metric: str, user_id: str | None = None) -> NoReturn:
        self._record(metric, user_id=user_id)
        raise AuthenticationFailed
