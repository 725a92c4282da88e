"""Every interface the domain needs from the outside world, in one place; adapters implement them
(``adapters/``) and ``tests/fakes.py`` keeps in-memory versions for the use cases' tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:  # annotations only: a function loads the models it uses, not every port's
    from domain.auth_models import RefreshRecord, SessionFamily
    from domain.events import LifecycleEvent, PublishFailure, TableChange
    from domain.mail import MailRequest
    from domain.recovery_tokens import IssuedToken, TokenPurpose
    from domain.user_search import UserQuery
    from domain.users import UserAccount, UserPage


# ---------------------------------------------------------------- users
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

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        """Delete ``previous`` if its version is still current (else VersionConflict; UserNotFound
        if already gone) and release its email; the deletion is recorded as ``deleted`` (its
        version and time), so the last image the stream carries is the deletion itself."""

    def list_users(
        self, limit: int, cursor: str | None, query: UserQuery | None = None
    ) -> UserPage:
        """One page of the users matching ``query``, in its order (domain/user_search.py);
        InvalidCursor for a cursor this service did not issue for this query."""


# ---------------------------------------------------------------- authentication
class SessionRepository(Protocol):
    def start_family(self, family: SessionFamily, first: RefreshRecord) -> None:
        """Store a new family and its first refresh token together."""

    def find_token(self, token_hash: str) -> RefreshRecord | None: ...

    def get_family(self, family_id: str) -> SessionFamily | None: ...

    def rotate(self, old: RefreshRecord, new: RefreshRecord, now: datetime) -> bool:
        """Mark ``old`` rotated and store ``new`` at once; False when ``old`` was already rotated
        or its family revoked meanwhile (nothing is written then)."""

    def revoke_family(self, family_id: str, now: datetime) -> None: ...


class LoginStateRepository(Protocol):
    """Login bookkeeping on the user item; never changes ``version`` (not a user-visible change)."""

    def record_failed_login(
        self, user_id: str, now: datetime, max_failures: int, lock_until: datetime
    ) -> bool:
        """Count a failure; at ``max_failures`` lock the account until ``lock_until`` and reset
        the counter. True when this failure locked the account."""

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime, max_failures: int
    ) -> bool:
        """Clear the failure counter and lock and store the re-hashed password, if the account is
        still as verified: the same password hash, not locked at ``now`` and fewer than
        ``max_failures`` failures. False (nothing written) when concurrent attempts changed that."""

    def revoke_all_sessions(self, user_id: str, now: datetime) -> None:
        """Every family created before ``now`` stops refreshing."""


# ---------------------------------------------------------------- lifecycle events
class EventPublisher(Protocol):
    def publish(self, events: Sequence[LifecycleEvent]) -> list[PublishFailure]:
        """Publish all events; return those that could not be published (to be retried)."""


class PoisonSink(Protocol):
    def send(self, record: Mapping[str, Any], reason: str) -> None:
        """Keep a record that will never map, with its content, for an operator."""


RecordReader: TypeAlias = Callable[[Mapping[str, Any]], "TableChange | None"]
"""Reads a stream record into a change (None: not a user item); PoisonRecord when unreadable."""


# ---------------------------------------------------------------- account recovery
class TokenStore(Protocol):
    def issue_token(
        self, user_id: str, purpose: TokenPurpose, token: IssuedToken, message: MailRequest
    ) -> bool:
        """Make ``token`` the user's only token of that purpose and queue its message, in one
        transaction, without a version change (nothing public changed). False (nothing written)
        if the user is gone or no longer has the address the message goes to."""


class RateLimiter(Protocol):
    def allow(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        """Count one request for ``key`` in the current fixed window; False beyond ``limit``."""


# ---------------------------------------------------------------- observability
class RecordOutcome(Protocol):
    def __call__(
        self, name: str, *, user_id: str | None = None, family_id: str | None = None
    ) -> None:
        """Counts an outcome (a metric named ``name``); ``user_id`` and ``family_id`` say whose
        it is, for the log line on-call reads (never an address, a password or a token)."""


def record_nothing(name: str, *, user_id: str | None = None, family_id: str | None = None) -> None:
    """The default recorder: outcomes are counted by the functions' observability."""
