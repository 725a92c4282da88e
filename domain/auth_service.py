"""Login, refresh-token rotation with reuse detection, and logout.

Every credential failure raises the same ``AuthenticationFailed`` so callers cannot tell an unknown
email from a wrong password, a locked or disabled account, or a revoked session.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from domain.access import Caller, caller_account
from domain.auth_models import (
    PASSWORD_METHOD,
    LogoutRequest,
    RefreshRecord,
    SessionFamily,
    TokenPair,
)
from domain.email_address import lookup_forms
from domain.errors import AuthenticationFailed, UserNotFound
from domain.password_guard import LockoutPolicy, PasswordGuard, Verdict
from domain.password_policy import normalize_password
from domain.passwords import PasswordHasher
from domain.ports import (
    LoginStateRepository,
    RecordOutcome,
    SessionRepository,
    UserRepository,
    record_nothing,
)
from domain.tokens import SessionClaims, TokenIssuer
from domain.users import UserAccount, UserStatus

if TYPE_CHECKING:
    from domain.mfa_login import MfaLogin
    from domain.mfa_models import MfaRequired, Proof

# Metric names, one per outcome an operator watches.
LOGIN_SUCCEEDED = "LoginSucceeded"
LOGIN_FAILED = "LoginFailed"
LOGIN_THROTTLED = "LoginThrottled"
REFRESH_REUSE_DETECTED = "RefreshReuseDetected"


def hash_refresh_token(token: str) -> str:
    """Refresh tokens carry 256 random bits, so a fast hash suffices: nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuthPolicy(LockoutPolicy):
    """The password guard's lockout, and how long a session family lives."""

    refresh_ttl: timedelta = timedelta(days=30)


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        login_state: LoginStateRepository,
        sessions: SessionRepository,
        hasher: PasswordHasher,
        issuer: Callable[[], TokenIssuer],
        policy: AuthPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        record_metric: RecordOutcome = record_nothing,
        mfa: Callable[[PasswordGuard], MfaLogin] | None = None,
    ) -> None:
        """``mfa``: makes the second step of logins (domain/mfa_login.py) from the password
        guard, whose lockout a wrong code counts toward; without it no login asks for one."""
        self._users = users
        self._login_state = login_state
        self._sessions = sessions
        self._hasher = hasher
        self._issuer = issuer
        self._policy = policy or AuthPolicy()
        self._clock = clock
        self._record = record_metric
        self._guard = PasswordGuard(
            login_state,
            hasher,
            self._policy,
            clock,
        )
        self._mfa = mfa(self._guard) if mfa else None

    def login(self, email: str, password: str) -> TokenPair | MfaRequired:
        """The token pair, or, for a user with a second factor, the ``mfa_token`` that
        ``complete_mfa`` exchanges for it with the factor."""
        account = next(
            filter(None, (self._users.find_by_email(form) for form in lookup_forms(email))), None
        )
        now = self._clock()
        if account is None:
            self._guard.spend_a_verification(password)
            self._reject(LOGIN_FAILED)
        user_id = account.user.id
        verdict = self._guard.check(account, password)
        if verdict is Verdict.LOCKED:
            self._reject(LOGIN_THROTTLED, user_id)
        if verdict is Verdict.REFUSED:
            self._reject(LOGIN_FAILED, user_id)
        if account.user.status != UserStatus.ACTIVE:
            self._reject(LOGIN_FAILED, user_id)
        if not self._after_successful_login(account, password, verdict, now):
            # Guesses running in parallel all read the account before any of them locked it:
            # only those that finish before the limit is reached may succeed.
            self._reject(LOGIN_THROTTLED, user_id)
        self._record(LOGIN_SUCCEEDED, user_id=user_id)
        if self._mfa is not None and self._mfa.required(account):
            return self._mfa.begin(account)
        return self._start_session(account, now, (PASSWORD_METHOD,))

    def complete_mfa(self, mfa_token: str, proof: Proof) -> TokenPair:
        """The second step of a login: the session starts once the factor is proven."""
        if self._mfa is None:
            raise AuthenticationFailed
        passed = self._mfa.complete(mfa_token, proof)
        return self._start_session(passed.account, self._clock(), (PASSWORD_METHOD, passed.amr))

    def refresh(self, refresh_token: str) -> TokenPair:
        now = self._clock()
        record = self._sessions.find_token(hash_refresh_token(refresh_token))
        if record is None or record.expires_at <= now:
            raise AuthenticationFailed
        family = self._sessions.get_family(record.family_id)
        if family is None or family.revoked_at is not None or family.expires_at <= now:
            raise AuthenticationFailed
        if record.rotated_at is not None:
            self._revoke_stolen_family(family, now)
        try:
            account = self._users.get(record.user_id)
        except UserNotFound as error:
            raise AuthenticationFailed from error
        revoked_since = account.sessions_revoked_at
        if account.user.status != UserStatus.ACTIVE or (
            revoked_since is not None and family.created_at <= revoked_since
        ):
            raise AuthenticationFailed
        token = new_refresh_token()
        successor = RefreshRecord(
            token_hash=hash_refresh_token(token),
            user_id=record.user_id,
            family_id=record.family_id,
            expires_at=now + self._policy.refresh_ttl,
        )
        if not self._sessions.rotate(record, successor, now):
            # Another request rotated this token first: one of the two holders is not the owner.
            self._revoke_stolen_family(family, now)
        return self._token_pair(account, token, family)

    def logout(self, caller: Caller, request: LogoutRequest) -> None:
        """Only with a token still valid: a revoked one must not sign the user out again."""
        caller_account(self._users, caller)
        now = self._clock()
        if request.refresh_token is not None:
            token = request.refresh_token.get_secret_value()
            record = self._sessions.find_token(hash_refresh_token(token))
            if record is None or record.user_id != caller.user_id or record.expires_at <= now:
                raise AuthenticationFailed("Invalid refresh token")
            self._sessions.revoke_family(record.family_id, now)
        if request.all:
            self._login_state.revoke_all_sessions(caller.user_id, now)

    def start_session(self, account: UserAccount, amr: tuple[str, ...]) -> TokenPair:
        """A session for a user another method authenticated (a passkey: ``amr`` says how);
        the password's bookkeeping is not involved."""
        return self._start_session(account, self._clock(), amr)

    def _start_session(
        self, account: UserAccount, now: datetime, amr: tuple[str, ...]
    ) -> TokenPair:
        """A new session family: its tokens carry this login's time and methods (``amr``)."""
        user = account.user
        token = new_refresh_token()
        expires_at = now + self._policy.refresh_ttl
        family = SessionFamily(
            family_id=str(uuid.uuid4()),
            user_id=user.id,
            created_at=now,
            expires_at=expires_at,
            auth_time=now,
            amr=amr,
        )
        first = RefreshRecord(
            token_hash=hash_refresh_token(token),
            user_id=user.id,
            family_id=family.family_id,
            expires_at=expires_at,
        )
        self._sessions.start_family(family, first)
        return self._token_pair(account, token, family)

    def _token_pair(
        self, account: UserAccount, refresh_token: str, family: SessionFamily
    ) -> TokenPair:
        user = account.user
        session = SessionClaims(
            family_id=family.family_id, auth_time=family.auth_time, amr=family.amr
        )
        access = self._issuer().issue(
            user.id, [str(role) for role in user.roles], account.session_generation, session=session
        )
        return TokenPair(
            access_token=access.token, refresh_token=refresh_token, expires_in=access.expires_in
        )

    def _after_successful_login(
        self, account: UserAccount, password: str, verdict: Verdict, now: datetime
    ) -> bool:
        """Re-hashes an old-cost hash, or one made before passwords were normalized."""
        new_hash = (
            self._hasher.hash(normalize_password(password))
            if verdict is Verdict.ACCEPTED_AS_TYPED
            or self._hasher.needs_rehash(account.password_hash)
            else None
        )
        return self._login_state.record_successful_login(
            account, new_hash, now, self._policy.max_failed_logins
        )

    def _revoke_stolen_family(self, family: SessionFamily, now: datetime) -> NoReturn:
        self._sessions.revoke_family(family.family_id, now)
        self._record(REFRESH_REUSE_DETECTED, user_id=family.user_id, family_id=family.family_id)
        raise AuthenticationFailed

    def _reject(self, metric: str, user_id: str | None = None) -> NoReturn:
        self._record(metric, user_id=user_id)
        raise AuthenticationFailed
