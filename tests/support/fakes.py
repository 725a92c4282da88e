"""In-memory implementations of the domain's ports, for fast tests of the use cases' rules.

Each fake keeps the guarantees its DynamoDB adapter gets from conditional writes and transactions
(``adapters/dynamodb_user_repository.py``, ``adapters/dynamodb_session_repository.py``): version
checks, one owner per email, writes that touch only what the use case changed, and login
bookkeeping that never bumps ``version``. Where the adapter lets an unexpected failure escape
(a cancelled transaction it does not map to a domain error), the fake raises ``StoreRefused``.
The adapters themselves are tested against moto.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from domain.auth_models import RefreshRecord, SessionFamily
from domain.errors import EmailAlreadyExists, InvalidCursor, UserNotFound, VersionConflict
from domain.events import LifecycleEvent, PublishFailure
from domain.last_admin import is_enabled_admin
from domain.login_throttle import ThrottleState, TrustedDevice
from domain.mail import MailRequest
from domain.pool_user import PoolUser
from domain.recovery_tokens import TokenPurpose
from domain.security_reasons import RevocationReason
from domain.source_limits import SourceLimits
from domain.user_search import UserQuery, sort_key
from domain.users import TOKEN_FIELDS, UserAccount, UserPage

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class StoreRefused(Exception):
    """A write the real table would refuse with an error the adapter does not translate."""


@dataclass
class _StoredUser:
    """The user item: the account plus the failure counter that only login bookkeeping sees."""

    account: UserAccount
    failed_logins: int = 0


def _whole_seconds(value: datetime) -> datetime:
    """TTL attributes are stored as epoch seconds, so they come back without the fraction."""
    return datetime.fromtimestamp(int(value.timestamp()), UTC)


class InMemoryUserRepository:
    """``UserRepository``: user items and email claims, as the single table keeps them."""

    def __init__(self) -> None:
        self.items: dict[str, _StoredUser] = {}
        self.email_owners: dict[str, str] = {}
        self._cursors: dict[str, tuple[str, str]] = {}
        self._cursor_ids = itertools.count(1)
        self.outbox: list[MailRequest] = []
        """Mail requests queued with the writes, in order (the table's MAIL# items)."""

    def add(self, account: UserAccount, messages: Sequence[MailRequest] = ()) -> None:
        user = account.user
        if user.id in self.items:
            raise StoreRefused(f"user {user.id} is already stored")
        if user.email in self.email_owners:
            raise EmailAlreadyExists
        # The adapter stores no lock on a new item (nor a failure counter).
        self.items[user.id] = _StoredUser(account.model_copy(update={"locked_until": None}))
        self.email_owners[user.email] = user.id
        self.outbox.extend(messages)

    def get(self, user_id: str) -> UserAccount:
        stored = self.items.get(user_id)
        if stored is None:
            raise UserNotFound
        return stored.account

    def find_by_email(self, email: str) -> UserAccount | None:
        owner = self.email_owners.get(email)
        if owner is None or owner not in self.items:
            return None
        return self.items[owner].account

    def save(
        self,
        updated: UserAccount,
        previous: UserAccount,
        messages: Sequence[MailRequest] = (),
        token_used: TokenPurpose | None = None,
        admin_kept: str | None = None,
    ) -> None:
        stored = self.items.get(previous.user.id)
        kept = self.items.get(admin_kept) if admin_kept else None
        if admin_kept is not None and (kept is None or not is_enabled_admin(kept.account.user)):
            raise VersionConflict  # that admin was disabled or demoted meanwhile
        if stored is None or stored.account.user.version != previous.user.version:
            raise VersionConflict
        if token_used is not None and stored.account.token(token_used) != previous.token(
            token_used
        ):
            raise VersionConflict  # used once, and only while it is the newest
        moved = updated.user.email != previous.user.email
        if moved and updated.user.email in self.email_owners:
            raise EmailAlreadyExists
        if moved and self.email_owners.get(previous.user.email) != previous.user.id:
            raise StoreRefused(f"{previous.user.email} is not claimed by {previous.user.id}")
        # Only what the use case changed is written: a re-hash or a revocation made by login
        # bookkeeping since ``previous`` was read survives an unrelated profile change.
        changes: dict[str, Any] = {"user": updated.user}
        for name in ("password_hash", "sessions_revoked_at", "mfa", *TOKEN_FIELDS.values()):
            if getattr(updated, name) != getattr(previous, name):
                changes[name] = getattr(updated, name)
        # The generation is added, never set: a concurrent revocation is never undone.
        bump = updated.session_generation - previous.session_generation
        changes["session_generation"] = stored.account.session_generation + bump
        if token_used is TokenPurpose.RESET_PASSWORD:  # a reset ends the run of failures
            stored.failed_logins = 0
            changes |= {"failed_logins": 0, "locked_until": None}
        stored.account = stored.account.model_copy(update=changes)
        if moved:
            del self.email_owners[previous.user.email]
            self.email_owners[updated.user.email] = updated.user.id
        self.outbox.extend(messages)

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        user = previous.user
        stored = self.items.get(user.id)
        if stored is None:
            raise UserNotFound
        if stored.account.user.version != user.version:
            raise VersionConflict
        if self.email_owners.get(user.email) != user.id:
            raise StoreRefused(f"{user.email} is not claimed by {user.id}")
        del self.items[user.id]
        del self.email_owners[user.email]

    def list_users(
        self, limit: int, cursor: str | None, query: UserQuery | None = None
    ) -> UserPage:
        """The query's order and filters (domain/user_search.py), as the sharded indexes serve
        them merged; a cursor is good only for the query that made it."""
        query = query or UserQuery()
        after = ""
        if cursor is not None:
            if self._cursors.get(cursor, ("", ""))[0] != query.fingerprint():
                raise InvalidCursor
            after = self._cursors[cursor][1]
        ordered = sorted(
            (sort_key(stored.account.user, query.order), stored.account.user)
            for stored in self.items.values()
            if query.matches(stored.account.user)
        )
        remaining = [(position, user) for position, user in ordered if position > after]
        page = remaining[:limit]
        next_cursor = None
        if len(remaining) > limit:
            next_cursor = f"cursor-{next(self._cursor_ids)}"
            self._cursors[next_cursor] = (query.fingerprint(), page[-1][0])
        return UserPage(items=[user for _, user in page], next_cursor=next_cursor)

    def other_enabled_admin(self, excluding: str) -> str | None:
        return next(
            (
                user_id
                for user_id, stored in self.items.items()
                if user_id != excluding and is_enabled_admin(stored.account.user)
            ),
            None,
        )

    def failed_logins(self, user_id: str) -> int:
        """The failure counter of a user item (not part of ``UserAccount``)."""
        return self.items[user_id].failed_logins


class InMemoryLoginState:
    """``LoginStateRepository``: bookkeeping on the user items of ``users``. As on the table, a
    lock, an unlock and a revocation take the next version (their security events' stamps are
    the table adapter's alone: tests/integration)."""

    def __init__(self, users: InMemoryUserRepository) -> None:
        self._items = users.items

    def _next_version(self, stored: Any, **changes: Any) -> None:
        account = stored.account
        user = account.user.model_copy(update={"version": account.user.version + 1})
        stored.account = account.model_copy(update={"user": user, **changes})

    def record_failed_login(self, user_id: str, now: datetime) -> int | None:
        stored = self._items.get(user_id)
        if stored is None:
            return None
        stored.failed_logins += 1
        stored.account = stored.account.model_copy(update={"failed_logins": stored.failed_logins})
        return stored.failed_logins

    def throttle(self, user_id: str, until: datetime, now: datetime | None = None) -> None:
        stored = self._items.get(user_id)
        if stored is None:
            return
        current = stored.account.locked_until
        if current is None or (now is not None and current <= now and current < until):
            self._next_version(stored, locked_until=until)
        elif current < until:
            stored.account = stored.account.model_copy(update={"locked_until": until})

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime
    ) -> bool:
        stored = self._items.get(account.user.id)
        if (
            stored is None
            or stored.account.password_hash != account.password_hash
            or (stored.account.locked_until is not None and stored.account.locked_until > now)
            or stored.failed_logins != account.failed_logins
        ):
            return False
        stored.failed_logins = 0
        stored.account = stored.account.model_copy(
            update={
                "locked_until": None,
                "failed_logins": 0,
                "password_hash": new_password_hash or stored.account.password_hash,
            }
        )
        return True

    def store_rehash(self, account: UserAccount, new_password_hash: str) -> bool:
        stored = self._items.get(account.user.id)
        if stored is None or stored.account.password_hash != account.password_hash:
            return False
        stored.account = stored.account.model_copy(update={"password_hash": new_password_hash})
        return True

    def revoke_all_sessions(
        self, user_id: str, now: datetime, reason: RevocationReason = RevocationReason.LOGOUT
    ) -> None:
        stored = self._items.get(user_id)
        if stored is not None:
            stored.account = stored.account.with_sessions_revoked(now)
            self._next_version(stored)

    def revoke_session(
        self,
        user_id: str,
        family_id: str,
        until: datetime,
        forget: Sequence[str] = (),
        reason: RevocationReason = RevocationReason.LOGOUT,
    ) -> None:
        stored = self._items.get(user_id)
        if stored is None:
            return
        revoked = {
            old: at for old, at in stored.account.revoked_sessions.items() if old not in forget
        }
        revoked[family_id] = until
        self._next_version(stored, revoked_sessions=revoked)

    def clear_throttle(self, user_id: str) -> bool:
        stored = self._items.get(user_id)
        if stored is None:
            return False
        stored.failed_logins = 0
        running = stored.account.locked_until
        if running is not None and running > datetime.now(UTC):  # an unlock: a running wait
            self._next_version(stored, failed_logins=0, locked_until=None)
        else:
            stored.account = stored.account.model_copy(
                update={"failed_logins": 0, "locked_until": None}
            )
        return True


class InMemoryDeviceRepository:
    """``DeviceRepository``: trusted devices by token hash, each with its own throttle."""

    def __init__(self) -> None:
        self.devices: dict[str, TrustedDevice] = {}

    def find_device(self, token_hash: str) -> TrustedDevice | None:
        return self.devices.get(token_hash)

    def add_device(self, device: TrustedDevice) -> None:
        if device.token_hash in self.devices:
            raise StoreRefused("device already stored")
        self.devices[device.token_hash] = replace(
            device, expires_at=_whole_seconds(device.expires_at)
        )

    def record_device_failure(self, token_hash: str, now: datetime) -> int | None:
        device = self.devices.get(token_hash)
        if device is None:
            return None
        state = replace(device.state, failures=device.state.failures + 1)
        self.devices[token_hash] = replace(device, state=state)
        return state.failures

    def throttle_device(self, token_hash: str, until: datetime) -> None:
        device = self.devices.get(token_hash)
        if device is None:
            return
        current = device.state.throttled_until
        if current is None or current < until:
            self.devices[token_hash] = replace(
                device, state=replace(device.state, throttled_until=until)
            )

    def record_device_success(self, device: TrustedDevice, now: datetime) -> bool:
        stored = self.devices.get(device.token_hash)
        if (
            stored is None
            or stored.state.wait(now)
            or stored.state.failures != device.state.failures
        ):
            return False
        self.devices[device.token_hash] = replace(
            stored, expires_at=_whole_seconds(device.expires_at), state=ThrottleState()
        )
        return True


class InMemorySessionRepository:
    """``SessionRepository``: refresh tokens by hash and their families."""

    def __init__(self) -> None:
        self.tokens: dict[str, RefreshRecord] = {}
        self.families: dict[str, SessionFamily] = {}

    def start_family(self, family: SessionFamily, first: RefreshRecord) -> None:
        if family.family_id in self.families or first.token_hash in self.tokens:
            raise StoreRefused("family or token already stored")
        self.families[family.family_id] = replace(
            family, expires_at=_whole_seconds(family.expires_at)
        )
        self._store(first)

    def find_token(self, token_hash: str) -> RefreshRecord | None:
        return self.tokens.get(token_hash)

    def get_family(self, family_id: str) -> SessionFamily | None:
        return self.families.get(family_id)

    def rotate(self, old: RefreshRecord, new: RefreshRecord, now: datetime) -> bool:
        current = self.tokens.get(old.token_hash)
        family = self.families.get(new.family_id)
        if (
            current is None
            or current.rotated_at is not None
            or new.token_hash in self.tokens
            or family is None
            or family.revoked_at is not None
        ):
            return False
        self.tokens[old.token_hash] = replace(current, rotated_at=now)
        self._store(new)
        return True

    def revoke_family(self, family_id: str, now: datetime) -> None:
        family = self.families.get(family_id)
        if family is not None and family.revoked_at is None:
            self.families[family_id] = replace(family, revoked_at=now)

    def _store(self, record: RefreshRecord) -> None:
        self.tokens[record.token_hash] = replace(
            record, expires_at=_whole_seconds(record.expires_at), rotated_at=None
        )


class InMemoryRateLimiter:
    """``RateLimiter`` and ``SourceCounters``: fixed-window counters, as the table keeps them."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int, str], int] = {}

    def allow(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        seconds = int(window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        if self.counts.get((key, start, "count"), 0) >= limit:
            return False
        self._add(key, start, "count")
        return True

    def admit(self, source_key: str, route: str, limits: SourceLimits, window_start: int) -> bool:
        requests = self.counts.get((source_key, window_start, f"requests_{route}"), 0)
        failures = self.counts.get((source_key, window_start, "failures"), 0)
        if requests >= limits.requests or failures >= limits.failures:
            return False
        self._add(source_key, window_start, f"requests_{route}")
        return True

    def count_failure(self, source_key: str, limits: SourceLimits, window_start: int) -> None:
        self._add(source_key, window_start, "failures")

    def _add(self, key: str, start: int, counter: str) -> None:
        self.counts[key, start, counter] = self.counts.get((key, start, counter), 0) + 1


@dataclass
class InMemoryEventPublisher:
    """``EventPublisher`` that keeps what it published; ``failing`` maps an event's record id to
    the error code PutEvents would report for it (then the event is not published)."""

    published: list[LifecycleEvent] = field(default_factory=list)
    failing: dict[str, str] = field(default_factory=dict)

    def publish(self, events: Sequence[LifecycleEvent]) -> list[PublishFailure]:
        failures = []
        for event in events:
            code = self.failing.get(event.record_id)
            if code is None:
                self.published.append(event)
            else:
                failures.append(PublishFailure(event, code, f"{code} (injected)"))
        return failures


@dataclass
class InMemoryPoisonSink:
    """``PoisonSink`` that keeps what it was sent; ``unavailable`` makes every send fail."""

    kept: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    unavailable: bool = False

    def send(self, record: Mapping[str, Any], reason: str) -> None:
        if self.unavailable:
            raise ConnectionError("poison queue unreachable (injected)")
        self.kept.append((record, reason))


def as_events_client(scripted: object) -> EventBridgeClient:
    """A scripted stand-in for the EventBridge client (throttling and outages moto cannot
    produce), typed as the real one; it must answer ``put_events`` as PutEvents does."""
    return cast("EventBridgeClient", scripted)


# ---------------------------------------------------------------- user migration
@dataclass
class InMemoryUserPool:
    """``UserPool``: another pool's users with their passwords (as plain text: it is a fake),
    and every call it was asked, to show what was (not) asked of it."""

    users: dict[str, tuple[PoolUser, str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def add(self, user: PoolUser, password: str) -> None:
        self.users[user.email] = (user, password)

    def authenticate(self, email: str, password: str) -> PoolUser | None:
        self.calls.append(("authenticate", email))
        found = self.users.get(email)
        return found[0] if found is not None and found[1] == password else None

    def find(self, email: str) -> PoolUser | None:
        self.calls.append(("find", email))
        found = self.users.get(email)
        return found[0] if found is not None else None
