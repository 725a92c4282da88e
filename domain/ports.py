"""Every interface the domain needs from the outside world, in one place; adapters implement them
(``adapters/``) and ``tests/support/fakes.py`` keeps in-memory versions for the use cases' tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:  # annotations only: a function loads the models it uses, not every port's
    from domain.auth_models import RefreshRecord, SessionFamily
    from domain.events import LifecycleEvent, PublishFailure, TableChange
    from domain.login_throttle import TrustedDevice
    from domain.mail import MailRequest
    from domain.mfa_uses import FactorUse, MfaChallenge
    from domain.passkeys import Challenge, ChallengePurpose, PasskeyUse, StoredPasskey
    from domain.pool_user import PoolUser
    from domain.recovery_tokens import IssuedToken, TokenPurpose
    from domain.security_reasons import RevocationReason
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
        admin_kept: str | None = None,
    ) -> None:
        """Replace ``previous`` if its version is still current (else VersionConflict), moving
        the email claim when the email changed (EmailAlreadyExists if taken) and queueing
        ``messages``, all in one transaction. With ``token_used``, ``previous``'s token of that
        purpose must still be the stored one (else VersionConflict): a token is used once. With
        ``admin_kept``, that user must still be an enabled admin (else VersionConflict)."""

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        """Delete ``previous`` if its version is still current (else VersionConflict; UserNotFound
        if already gone) and release its email; the deletion is recorded as ``deleted`` (its
        version and time), so the last image the stream carries is the deletion itself."""

    def list_users(
        self, limit: int, cursor: str | None, query: UserQuery | None = None
    ) -> UserPage:
        """One page of the users matching ``query``, in its order (domain/user_search.py);
        InvalidCursor for a cursor this service did not issue for this query."""

    def other_enabled_admin(self, excluding: str) -> str | None:
        """The id of an enabled admin other than ``excluding``, if there is one."""


class UserPool(Protocol):
    """Another user pool users move over from (domain/user_migration.py): Cognito's adapter."""

    def authenticate(self, email: str, password: str) -> PoolUser | None:
        """The user, if the pool accepts this password and asks for nothing more; None for an
        unknown user, a wrong password or a user the pool would not let in."""

    def find(self, email: str) -> PoolUser | None:
        """The user, if the pool has them and they are enabled."""


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
    """Login bookkeeping on the user item. Counting failures and re-hashing never change
    ``version``; a lock, an unlock and a revocation are security changes at the next version
    (domain/security_events.py)."""

    def record_failed_login(self, user_id: str, now: datetime) -> int | None:
        """Count a consecutive failure; the new count (None when the user is gone)."""

    def throttle(self, user_id: str, until: datetime, now: datetime | None = None) -> None:
        """No verdict on the account's scope before ``until`` (a later wait is never shortened);
        a wait that starts at ``now`` locks the account (AccountLocked)."""

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime
    ) -> bool:
        """End the account's run of failures and store the re-hashed password, if the account
        is still as verified: the same password hash, not throttled at ``now`` and no failure
        counted since it was read. False (nothing written) when concurrent attempts changed it."""

    def store_rehash(self, account: UserAccount, new_password_hash: str) -> bool:
        """Store a re-hashed password (a device's login leaves the account's run as it is) if
        the password hash is still the one verified."""

    def revoke_all_sessions(
        self, user_id: str, now: datetime, reason: RevocationReason = ...
    ) -> None:
        """Every family created before ``now`` stops refreshing (SessionsRevoked, scope all)."""

    def revoke_session(
        self,
        user_id: str,
        family_id: str,
        until: datetime,
        forget: Sequence[str] = (),
        reason: RevocationReason = ...,
    ) -> None:
        """The family's access tokens are refused until ``until`` (when the last one it may have
        issued expires); ``forget``: revocations whose time has passed, dropped meanwhile."""

    def clear_throttle(self, user_id: str) -> bool:
        """Forget the account's run of failures and wait (operators: `userflow admin unlock`);
        False when there is no such user."""


class DeviceRepository(Protocol):
    """Trusted devices, each known by the hash of its device token."""

    def find_device(self, token_hash: str) -> TrustedDevice | None: ...

    def add_device(self, device: TrustedDevice) -> None: ...

    def record_device_failure(self, token_hash: str, now: datetime) -> int | None:
        """Count a consecutive failure on the device; the new count (None when it is gone)."""

    def throttle_device(self, token_hash: str, until: datetime) -> None: ...

    def record_device_success(self, device: TrustedDevice, now: datetime) -> bool:
        """End the device's run of failures and keep it ``device.expires_at`` longer, if it is
        as read: not throttled at ``now``, no failure counted since. False otherwise."""


# ---------------------------------------------------------------- second factors
class MfaChallengeStore(Protocol):
    def create(self, challenge: MfaChallenge) -> None: ...

    def find(self, token_hash: str) -> MfaChallenge | None: ...

    def record_failure(self, challenge: MfaChallenge, max_failures: int) -> None:
        """One more wrong proof; the challenge is deleted at ``max_failures``."""

    def complete(self, challenge: MfaChallenge, use: FactorUse) -> bool:
        """Delete the challenge (if still there and not exhausted) and make ``use`` of the user
        item, in one transaction; False (nothing written) if either condition no longer held."""


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


# ---------------------------------------------------------------- passkeys
class PasskeyRepository(Protocol):
    """A user's passkeys, and which user each credential belongs to (one owner per credential).

    Adding and removing one writes the user item at ``updated``'s version and ``passkey_count``
    under the condition ``UserRepository.save`` uses (``previous``'s version, else
    VersionConflict): ordered with every other change of the user, and on the stream like one."""

    def list_for_user(self, user_id: str) -> list[StoredPasskey]: ...

    def find(self, passkey_id: str) -> StoredPasskey | None:
        """The passkey of that id, whoever owns it."""

    def user_id_by_email(self, email: str) -> str | None:
        """The owner of an email claim, in one read (the user item is not read)."""

    def add(
        self,
        passkey: StoredPasskey,
        updated: UserAccount,
        previous: UserAccount,
        notice: MailRequest,
    ) -> bool:
        """Store it with ``updated`` and queue ``notice``, in one transaction; False (nothing
        written) when its credential is registered already, to anyone."""

    def remove(
        self,
        passkey: StoredPasskey,
        updated: UserAccount,
        previous: UserAccount,
        notice: MailRequest,
    ) -> None:
        """Delete it with ``updated`` in one transaction (PasskeyNotFound if already gone)."""

    def rename(self, passkey: StoredPasskey, name: str) -> bool:
        """False when it is gone."""

    def record_use(self, passkey: StoredPasskey, use: PasskeyUse) -> bool:
        """A verified assertion's counter, backup state and time; False (nothing written) when
        the passkey was removed or blocked meanwhile, or another assertion moved its counter to
        ``use.sign_count`` or past it."""

    def block(
        self, passkey: StoredPasskey, owner: UserAccount, now: datetime, notice: MailRequest
    ) -> None:
        """A copy of it exists: blocked for good, every session of ``owner`` ended and ``notice``
        queued, in one transaction; the sign-out takes the user's next version, so that it
        publishes SessionsRevoked (reason ``passkey_cloned``, by the system)."""


class ChallengeStore(Protocol):
    def put(self, challenge: Challenge) -> None: ...

    def take(self, challenge_id: str, purpose: ChallengePurpose, now: datetime) -> Challenge | None:
        """The challenge, deleted as it is read, if it exists, is for ``purpose`` and has not
        expired at ``now``; else None. Of two takes of one challenge, one at most gets it."""


# ---------------------------------------------------------------- observability
class RecordOutcome(Protocol):
    def __call__(
        self, name: str, *, user_id: str | None = None, family_id: str | None = None
    ) -> None:
        """Counts an outcome (a metric named ``name``); ``user_id`` and ``family_id`` say whose
        it is, for the log line on-call reads (never an address, a password or a token)."""


def record_nothing(name: str, *, user_id: str | None = None, family_id: str | None = None) -> None:
    """The default recorder: outcomes are counted by the functions' observability."""
