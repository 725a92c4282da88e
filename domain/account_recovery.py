"""Email verification and password reset, with their rules (docs/api/recovery.md).

- Tokens are random, single-use and stored only as hashes; a new token of a purpose kills the
  previous one, and a password change kills both (``domain/recovery_tokens.py``).
- Forgot-password answers the same, in about the same time, for every address: known, unknown,
  disabled or over the mail limits (domain/mail_limits.py). Beyond a limit the request is
  silently dropped, so that the limit itself reveals nothing; resending a verification beyond
  it is refused (the caller is signed in, there is nothing to hide from them).
- A reset changes the password, revokes every session and access token of the user
  (``sessions_revoked_at`` and the session generation) and clears the lockout. It publishes
  nothing: no public field changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from domain.access import Caller, caller_account
from domain.clock import Clock, utc_now
from domain.email_lookup import account_by_email
from domain.errors import InvalidRecoveryToken, TooManyRequests, UserNotFound, VersionConflict
from domain.mail import TOKEN_PURPOSE, MailKind, user_message
from domain.mail_limits import MailLimiter
from domain.password_policy import MIN_PASSWORD_LENGTH, validated_password
from domain.passwords import PasswordHasher
from domain.ports import (
    RecordOutcome,
    TokenStore,
    UserRepository,
    record_nothing,
)
from domain.recovery_tokens import TokenPurpose, new_token, read_token
from domain.users import User, UserAccount, UserStatus
from domain.write_races import WRITE_ATTEMPTS

if TYPE_CHECKING:
    from domain.user_migration import UserMigration

# Metric names, for operators only (they never reach a caller): abuse shows as limited requests.
RECOVERY_RATE_LIMITED = "RecoveryRateLimited"
RESET_LINK_MAILED = "PasswordResetMailed"
RESET_COMPLETED = "PasswordReset"
EMAIL_VERIFIED = "EmailVerified"


@dataclass(frozen=True)
class RecoveryLimits:
    forgot_min_duration: timedelta = timedelta(milliseconds=400)
    """Forgot-password never answers sooner: the work done for a known address stays hidden."""
    password_min_length: int = MIN_PASSWORD_LENGTH


class AccountRecoveryService:
    def __init__(
        self,
        *,
        users: UserRepository,
        tokens: TokenStore,
        mail_limiter: MailLimiter,
        hasher: PasswordHasher,
        token_key: Callable[[], bytes],
        limits: RecoveryLimits | None = None,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        record_metric: RecordOutcome = record_nothing,
        migration: UserMigration | None = None,
    ) -> None:
        """``token_key``: the MAC key of tokens, fetched on first use (only verify and reset
        need it). ``migration``: the user pool an unknown address may be moved over from, to
        be mailed its reset link here (domain/user_migration.py)."""
        self._users = users
        self._tokens = tokens
        self._mail_limiter = mail_limiter
        self._hasher = hasher
        self._token_key = token_key
        self._limits = limits or RecoveryLimits()
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._record = record_metric
        self._migration = migration

    # ------------------------------------------------------------ email verification
    def verify_email(self, token: str) -> None:
        def verified(account: UserAccount, now: datetime) -> UserAccount:
            verified = account.changed(now, email_verified=True)
            return verified.model_copy(update={"verify_token": None})

        user_id = self._use_token(TokenPurpose.VERIFY_EMAIL, token, verified)
        self._record(EMAIL_VERIFIED, user_id=user_id)

    def resend_verification(self, caller: Caller, source: str) -> None:
        """202 semantics: a new message and the previous token dead; nothing to send when the
        address is already verified."""
        account = caller_account(self._users, caller)
        if account.user.email_verified:
            return
        if not self._mail_limiter.allow(account.user.email, source):
            self._record(RECOVERY_RATE_LIMITED)
            raise TooManyRequests(retry_after=self._mail_limiter.retry_after())
        self._issue(account.user, MailKind.VERIFY_EMAIL, self._clock())

    # ------------------------------------------------------------ password reset
    def forgot_password(self, email: str, source: str) -> None:
        """Same answer and about the same time whatever the address (no enumeration)."""
        started = self._monotonic()
        try:
            self._send_reset_if_allowed(email, source)
        finally:
            remaining = self._limits.forgot_min_duration.total_seconds() - (
                self._monotonic() - started
            )
            if remaining > 0:
                self._sleep(remaining)

    def reset_password(self, token: str, password: str) -> None:
        account = self._account_for(TokenPurpose.RESET_PASSWORD, token)
        new_hash = self.new_password_hash(password, account.user.email)

        def reset(account: UserAccount, now: datetime) -> UserAccount:
            # A new version with no public change: PasswordChanged (reason reset) and
            # SessionsRevoked, no UserUpdated (domain/security_events.py).
            return (
                account.with_sessions_revoked(now)
                .changed(now)
                .model_copy(
                    update={
                        "password_hash": new_hash,
                        "locked_until": None,
                        "failed_logins": 0,
                        "verify_token": None,
                        "reset_token": None,
                    }
                )
            )

        user_id = self._use_token(TokenPurpose.RESET_PASSWORD, token, reset, account)
        self._record(RESET_COMPLETED, user_id=user_id)

    def new_password_hash(self, password: str, email: str) -> str:
        """The one place a reset applies the password policy."""
        return self._hasher.hash(
            validated_password(password, email, self._limits.password_min_length)
        )

    # ------------------------------------------------------------ helpers
    def _send_reset_if_allowed(self, email: str, source: str) -> None:
        now = self._clock()
        # Counted whatever the address, so a limit reached says nothing about it.
        if not self._mail_limiter.allow(email, source):
            self._record(RECOVERY_RATE_LIMITED)
            return
        account = account_by_email(self._users, email)
        if account is None and self._migration is not None:
            account = self._migration.migrate_for_reset(email)
        if account is not None and account.user.status == UserStatus.ACTIVE:
            self._issue(account.user, MailKind.RESET_PASSWORD, now)
            self._record(RESET_LINK_MAILED, user_id=account.user.id)

    def _issue(self, user: User, kind: MailKind, now: datetime) -> None:
        """A new token (the previous one of its purpose dies) and its message, in one write."""
        purpose = TOKEN_PURPOSE[kind]
        token = new_token(user.id, purpose, now)
        self._tokens.issue_token(
            user.id, purpose, token.issued, user_message(kind, user, token.reference)
        )

    def _account_for(self, purpose: TokenPurpose, token: str) -> UserAccount:
        """The account whose current, unexpired token of ``purpose`` this is."""
        presented = read_token(self._token_key(), purpose, token)
        if presented is None:
            raise InvalidRecoveryToken
        try:
            account = self._users.get(presented.user_id)
        except UserNotFound as error:
            raise InvalidRecoveryToken from error
        stored = account.token(purpose)
        if stored is None or not stored.accepts(presented.token_hash, self._clock()):
            raise InvalidRecoveryToken
        if account.user.status != UserStatus.ACTIVE:
            raise InvalidRecoveryToken
        return account

    def _use_token(
        self,
        purpose: TokenPurpose,
        token: str,
        change: Callable[[UserAccount, datetime], UserAccount],
        account: UserAccount | None = None,
    ) -> str:
        """Makes ``change`` with the token, once: the write is conditional on the token still
        being the stored one and on the version read. A lost race with another change (a lock
        or a logout, which take versions too) is redone on a fresh read while the token is still
        good; a token used or superseded meanwhile is an invalid link."""
        for _ in range(WRITE_ATTEMPTS):
            current = account or self._account_for(purpose, token)
            account = None
            try:
                self._users.save(change(current, self._clock()), current, token_used=purpose)
            except VersionConflict:
                continue
            return current.user.id
        raise InvalidRecoveryToken
