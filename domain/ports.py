"""Interfaces the domain needs from the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from domain.mail import MailRequest
from domain.recovery_tokens import IssuedToken, TokenPurpose
from domain.users import UserAccount, UserPage


class UserRepository(Protocol):
    def add(self, account: UserAccount, messages: Sequence[MailRequest] = ()) -> None:
        """Store a new user, claim its email and queue ``messages`` in one transaction;
        EmailAlreadyExists if the email is taken."""

    def get(self, user_id: str) -> UserAccount:
        """UserNotFound if there is no such user."""

    def find_by_email(self, email: str) -> UserAccount | None: ...

    def save(
        self,
        updated: UserAccount,
        previous: UserAccount,
        messages: Sequence[MailRequest] = (),
        token_used: TokenPurpose | None = None,
    ) -> None:
        """Replace ``previous`` if its version is still current (else VersionConflict), moving
        the email claim when the email changed (EmailAlreadyExists if taken) and queueing
        ``messages``, all in one transaction. With ``token_used``, ``previous``'s token of that
        purpose must still be the stored one (else VersionConflict): a token is used once."""

    def remove(self, account: UserAccount) -> None:
        """Delete the user and release its email; UserNotFound if already gone."""

    def list_users(self, limit: int, cursor: str | None) -> UserPage:
        """One page in a stable order; InvalidCursor for a cursor this service did not issue."""


class TokenStore(Protocol):
    def issue_token(
        self, user_id: str, purpose: TokenPurpose, token: IssuedToken, message: MailRequest
    ) -> bool:
        """Make ``token`` the user's only token of that purpose and queue its message, in one
        transaction, without a version change (nothing public changed). False if the user is
        gone."""


class RateLimiter(Protocol):
    def allow(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        """Count one request for ``key`` in the current fixed window; False beyond ``limit``."""
