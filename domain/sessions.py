"""Sessions (docs/api/auth.md, "Sessions"): started by a login, kept alive by refresh, ended by
logout.

A session is a refresh family: it lives at most ``session_lifetime`` from its login, each refresh
token ``idle_timeout`` from its issue. Each refresh rotates the token; a rotated token used again
means one of its two holders is not the owner, and the whole family is revoked. Revoking a family
(logout, that reuse) also ends its access tokens. Every failure is the same
``AuthenticationFailed``, as at login (domain/auth_service.py).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from domain.access import Caller, caller_account
from domain.auth_models import LogoutRequest, RefreshRecord, SessionFamily, TokenPair
from domain.clock import Clock
from domain.errors import AuthenticationFailed, UserNotFound
from domain.login_throttle import ThrottlePolicy
from domain.ports import LoginStateRepository, RecordOutcome, SessionRepository, UserRepository
from domain.security_reasons import RevocationReason
from domain.tokens import LEEWAY_SECONDS, MAX_ACCESS_TTL_SECONDS, SessionClaims, TokenIssuer
from domain.users import UserAccount, UserStatus

# Metric name: an operator watches for stolen refresh tokens.
REFRESH_REUSE_DETECTED = "RefreshReuseDetected"


def hash_refresh_token(token: str) -> str:
    """Refresh tokens carry 256 random bits, so a fast hash suffices: nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuthPolicy:
    """The login throttle and how long sessions live (template parameters: docs/api/auth.md,
    "Policies")."""

    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    session_lifetime: timedelta = timedelta(days=30)
    """Absolute: no refresh outlives the login by more."""
    idle_timeout: timedelta = timedelta(days=7)
    """A refresh token unused this long is dead (each refresh issues one that lives this long)."""
    access_token_ttl: timedelta = timedelta(seconds=MAX_ACCESS_TTL_SECONDS)
    """How long a revoked session's access tokens must be refused after the revocation."""


class SessionService:
    def __init__(
        self,
        *,
        users: UserRepository,
        login_state: LoginStateRepository,
        sessions: SessionRepository,
        issuer: Callable[[], TokenIssuer],
        policy: AuthPolicy,
        clock: Clock,
        record_metric: RecordOutcome,
    ) -> None:
        self._users = users
        self._login_state = login_state
        self._sessions = sessions
        self._issuer = issuer
        self._policy = policy
        self._clock = clock
        self._record = record_metric

    def start(self, account: UserAccount, now: datetime, amr: tuple[str, ...]) -> TokenPair:
        """A new session family: its tokens carry this login's time and methods (``amr``)."""
        user = account.user
        token = new_refresh_token()
        family = SessionFamily(
            family_id=str(uuid.uuid4()),
            user_id=user.id,
            created_at=now,
            expires_at=now + self._policy.session_lifetime,
            auth_time=now,
            amr=amr,
        )
        first = RefreshRecord(
            token_hash=hash_refresh_token(token),
            user_id=user.id,
            family_id=family.family_id,
            expires_at=min(now + self._policy.idle_timeout, family.expires_at),
        )
        self._sessions.start_family(family, first)
        return self._token_pair(account, token, family)

    def refresh(self, refresh_token: str) -> TokenPair:
        now = self._clock()
        record = self._sessions.find_token(hash_refresh_token(refresh_token))
        if record is None or record.expires_at <= now:
            raise AuthenticationFailed
        family = self._sessions.get_family(record.family_id)
        if family is None or family.revoked_at is not None or self._session_end(family) <= now:
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
            expires_at=min(now + self._policy.idle_timeout, self._session_end(family)),
        )
        if not self._sessions.rotate(record, successor, now):
            # Another request rotated this token first: one of the two holders is not the owner.
            self._revoke_stolen_family(family, now)
        return self._token_pair(account, token, family)

    def logout(self, caller: Caller, request: LogoutRequest) -> None:
        """Only with a token still valid: a revoked one must not sign the user out again."""
        account = caller_account(self._users, caller)
        now = self._clock()
        if request.refresh_token is not None:
            token = request.refresh_token.get_secret_value()
            record = self._sessions.find_token(hash_refresh_token(token))
            if record is None or record.user_id != caller.user_id or record.expires_at <= now:
                raise AuthenticationFailed("Invalid refresh token")
            self._end_session(record.family_id, account, now)
        if request.all:
            self._login_state.revoke_all_sessions(caller.user_id, now)

    def _session_end(self, family: SessionFamily) -> datetime:
        """The absolute end: the policy's lifetime from the login, never later than the end
        stored with the family (families stored when each refresh extended it included)."""
        return min(family.expires_at, family.created_at + self._policy.session_lifetime)

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

    def _end_session(
        self,
        family_id: str,
        account: UserAccount | None,
        now: datetime,
        reason: RevocationReason = RevocationReason.LOGOUT,
    ) -> None:
        """Revokes the family and, on the user's item, its access tokens until they expire."""
        self._sessions.revoke_family(family_id, now)
        if account is None:
            return
        forget = [old for old, until in account.revoked_sessions.items() if until <= now]
        until = now + self._policy.access_token_ttl + timedelta(seconds=LEEWAY_SECONDS)
        self._login_state.revoke_session(account.user.id, family_id, until, forget, reason)

    def _revoke_stolen_family(self, family: SessionFamily, now: datetime) -> NoReturn:
        try:
            account: UserAccount | None = self._users.get(family.user_id)
        except UserNotFound:
            account = None
        self._end_session(family.family_id, account, now, RevocationReason.REUSE_DETECTED)
        self._record(REFRESH_REUSE_DETECTED, user_id=family.user_id, family_id=family.family_id)
        raise AuthenticationFailed
